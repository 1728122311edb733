import Logging
import Metrics
import NIOCore

/// Logs and counts the errors of `accept(2)` on the feed's listening socket.
///
/// EMFILE/ENFILE (out of descriptors), ENOBUFS/ENOMEM and ECONNABORTED do not close the
/// listener: NIO's `AcceptBackoffHandler`, which the bootstrap installs behind this
/// handler, stops accepting for one second after each, so the listener neither spins
/// nor dies, and connections wait in the kernel's backlog meanwhile. It swallows the
/// error silently, so this handler is what makes it visible.
final class AcceptErrorReporter: ChannelInboundHandler, RemovableChannelHandler {
    typealias InboundIn = any Channel
    typealias InboundOut = any Channel
    private let logger: Logger
    private let counter: Counter
    private var throttle = LogThrottle()

    init(logger: Logger, counter: Counter) {
        self.logger = logger
        self.counter = counter
    }

    func errorCaught(context: ChannelHandlerContext, error: any Error) {
        if error is IOError {
            counter.increment()
            if let unlogged = throttle.record(at: .now) {
                logger.error(
                    "feed cannot accept connections; retrying in 1 s (out of file descriptors? see --max-connections and ulimit -n)",
                    metadata: ["error": "\(error)", "failures_unlogged": "\(unlogged)"]
                )
            }
        }
        context.fireErrorCaught(error)
    }
}
