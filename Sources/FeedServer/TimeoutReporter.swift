import Logging
import Metrics
import NIOCore
import Synchronization

/// Logs (throttled) and counts the connections the watchdogs close.
final class TimeoutReporter: Sendable {
    private let logger: Logger
    private let idle = Counter(label: "vigil_feed_timeouts_total", dimensions: [("kind", "idle")])
    private let line = Counter(label: "vigil_feed_timeouts_total", dimensions: [("kind", "line")])
    private let idleTimeout: Duration?
    private let lineTimeout: Duration?
    private let throttles = Mutex((idle: LogThrottle(), line: LogThrottle()))

    init(logger: Logger, idleTimeout: Duration?, lineTimeout: Duration?) {
        self.logger = logger
        self.idleTimeout = idleTimeout
        self.lineTimeout = lineTimeout
    }

    func idleClosed(peer: SocketAddress?) {
        idle.increment()
        guard let unlogged = throttles.withLock({ $0.idle.record(at: .now) }) else { return }
        logger.info(
            "closed an idle feed connection (nothing sent, nothing owed; clients send a blank line to keep a quiet connection)",
            metadata: [
                "peer": "\(peer.map { "\($0)" } ?? "unknown")", "idle_timeout": "\(idleTimeout.map { "\($0)" } ?? "none")",
                "closed_unlogged": "\(unlogged)",
            ])
    }

    func lineTimedOut(peer: SocketAddress?, bytes: Int) {
        line.increment()
        guard let unlogged = throttles.withLock({ $0.line.record(at: .now) }) else { return }
        logger.info(
            "closing a feed connection whose line was not finished in time (slow or stalled sender)",
            metadata: [
                "peer": "\(peer.map { "\($0)" } ?? "unknown")", "line_timeout": "\(lineTimeout.map { "\($0)" } ?? "none")",
                "bytes": "\(bytes)", "closed_unlogged": "\(unlogged)",
            ])
    }
}
