import NIOCore

/// Closes a connection whose client has left while an event stream is being written.
///
/// Hummingbird allows half-closure: a client's FIN only ends the request side, and the
/// server closes once the response is done. An event stream is never done, and a quiet
/// one writes nothing that would fail, so without this its subscriber would hold its slot
/// until the next alert. Other responses are left to Hummingbird.
final class EventStreamHangupHandler: ChannelInboundHandler, RemovableChannelHandler {
    // Only events are looked at; request parts pass through untouched.
    typealias InboundIn = NIOAny

    private var streaming = false
    private var inputClosed = false

    func userInboundEventTriggered(context: ChannelHandlerContext, event: Any) {
        if case .some(.inputClosed) = event as? ChannelEvent {
            inputClosed = true
            if streaming { context.close(promise: nil) }
        }
        context.fireUserInboundEventTriggered(event)
    }

    /// An event stream starts on `channel`: from now on a client hang-up closes it.
    static func streamStarted(on channel: any Channel) async {
        try? await channel.eventLoop.submit {
            let handler = try channel.pipeline.syncOperations.handler(type: EventStreamHangupHandler.self)
            handler.streaming = true
            if handler.inputClosed { channel.close(promise: nil) }
        }.get()
    }
}
