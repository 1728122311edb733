import Hummingbird
import NIOCore
import Synchronization

/// The streams being served, so a graceful shutdown can end them (a server-sent event
/// stream never ends by itself, and the server waits for open responses to finish).
public final class StreamRegistry: Sendable {
    /// A stream being served: its source, the token name that opened it, its connection.
    private typealias Entry = (source: any EventStreamSource, owner: String?, channel: any Channel)
    private let state = Mutex<(next: Int, sources: [Int: Entry], stopped: Bool)>((0, [:], false))

    /// Creates an empty registry.
    public init() {}

    /// Ends every stream, and any started from now on.
    public func finishAll() {
        let sources = state.withLock { state -> [any EventStreamSource] in
            state.stopped = true
            return state.sources.values.map(\.source)
        }
        for source in sources { source.finish() }
    }

    /// Ends the streams opened with the token named `owner` (it was revoked: a stream
    /// already open must not outlive the token that opened it). Returns how many.
    @discardableResult
    public func finish(owner: String) -> Int {
        let streams = state.withLock { state in state.sources.values.filter { $0.owner == owner } }
        for stream in streams {
            stream.source.finish()
            // The client is not told by an event: the connection goes, as for a refused request.
            stream.channel.close(promise: nil)
        }
        return streams.count
    }

    /// Resumes accepting streams (a restarted server).
    func reset() { state.withLock { $0.stopped = false } }

    /// A `200 text/event-stream` response pulling from `source` on this connection: a small
    /// send buffer (a client that stops reading holds 64 KiB in the kernel, not megabytes),
    /// ended when the client leaves or the server stops.
    public func response(streaming source: any EventStreamSource, context: APIRequestContext) -> Response {
        let channel = context.channel
        let registered = state.withLock { state -> Int? in
            guard !state.stopped else { return nil }
            state.next += 1
            state.sources[state.next] = (source, context.identity?.name, channel)
            return state.next
        }
        if registered == nil { source.finish() }
        source.attach(closeConnection: { channel.close(promise: nil) })
        // Whichever comes first, the connection closing or the body ending, ends the source
        // and forgets it (a body that never starts still has a connection that closes).
        let end: @Sendable () -> Void = { [self] in
            source.finish()
            if let registered { _ = state.withLock { $0.sources.removeValue(forKey: registered) } }
        }
        channel.closeFuture.whenComplete { _ in end() }
        let body = ResponseBody { writer in
            defer { end() }
            try? await channel.setOption(.socketOption(.so_sndbuf), value: 64 * 1024).get()
            await EventStreamHangupHandler.streamStarted(on: channel)
            while let chunks = await source.next() {
                try await writer.write(contentsOf: chunks)
            }
            try await writer.finish(nil)
        }
        return Response(
            status: .ok, headers: [.contentType: "text/event-stream", .cacheControl: "no-cache", .connection: "close"], body: body)
    }
}
