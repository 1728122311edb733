import Logging
import Metrics
import NIOCore

/// Backs off, logs and counts when `accept(2)` fails on a listening socket.
///
/// EMFILE/ENFILE (out of descriptors), ENOBUFS/ENOMEM and ECONNABORTED leave the pending
/// connection in the kernel's backlog, and the listening socket stays readable. NIO
/// does not close the listener on them and its bootstrap installs an
/// `AcceptBackoffHandler`, but (swift-nio 2.101) that handler never runs when the
/// *first* accept of a readable event fails: the channel still has its read pending,
/// so it goes straight back to epoll, which reports the socket readable again, and
/// the event loop spins on a failing `accept` at 100 % CPU, silently. This handler,
/// placed in front, takes the error instead: it turns off `autoRead` (unregistering
/// the socket from epoll), turns it back on after `backoff`, and says so in the log
/// (once per 10 s) and in `counter`. Connections arriving meanwhile wait in the backlog.
public final class AcceptErrorHandler: ChannelInboundHandler, RemovableChannelHandler {
    public typealias InboundIn = any Channel
    public typealias InboundOut = any Channel
    private let listener: String
    private let logger: Logger
    private let counter: Counter?
    private let backoff: TimeAmount
    private var throttle = LogThrottle()
    private var paused = false

    /// Creates the handler for the listener called `listener` in the log ("feed").
    public init(listener: String, logger: Logger, counter: Counter?, backoff: TimeAmount = .seconds(1)) {
        self.listener = listener
        self.logger = logger
        self.counter = counter
        self.backoff = backoff
    }

    public func errorCaught(context: ChannelHandlerContext, error: any Error) {
        guard error is IOError, context.channel.isActive else {
            context.fireErrorCaught(error)
            return
        }
        counter?.increment()
        if let unlogged = throttle.record(at: .now) {
            logger.error(
                "\(listener) cannot accept connections; retrying in \(backoff.nanoseconds / 1_000_000) ms (out of file descriptors? see --max-connections and ulimit -n)",
                metadata: ["error": "\(error)", "failures_unlogged": "\(unlogged)"]
            )
        }
        pause(context)
        // Not forwarded: NIO's own backoff handler, next in line, would swallow it anyway.
    }

    private func pause(_ context: ChannelHandlerContext) {
        guard !paused, let options = context.channel.syncOptions else { return }
        paused = true
        try? options.setOption(.autoRead, value: false)
        context.eventLoop.assumeIsolated().scheduleTask(in: backoff) { [self] in
            paused = false
            try? context.channel.syncOptions?.setOption(.autoRead, value: true)
        }
    }
}
