import FeedProtocol
import Logging
import Metrics
import NIOCore
import Synchronization

/// Admission to the feed: counts open connections and turns away those over the limit.
///
/// Decided in the child channel's initializer, before any task or buffer exists for the
/// connection, so a flood of connections over the limit costs one descriptor each for
/// an instant and nothing else.
final class ConnectionGate: Sendable {
    /// Open connections at most.
    let limit: Int
    private let open = Atomic<Int>(0)
    private let throttle = Mutex(LogThrottle())
    private let logger: Logger
    private let gauge: Gauge
    private let refusedCounter: Counter
    /// The refusal line, encoded once (nothing for ISO 8583, which has no such message).
    private let refusal: [UInt8]

    init(limit: Int, logger: Logger, configuration: FeedServerConfiguration = FeedServerConfiguration()) {
        self.limit = max(1, limit)
        self.logger = logger
        self.refusal = configuration.isLineFramed ? FeedReply.nack(.tooManyConnections(limit: max(1, limit))).bytes : []
        let prefix = configuration.metricsPrefix
        self.gauge = Gauge(label: "\(prefix)_connections")
        self.refusedCounter = Counter(label: "\(prefix)_connections_refused_total")
        Gauge(label: "\(prefix)_max_connections").record(self.limit)
    }

    /// Open connections now.
    var count: Int { open.load(ordering: .relaxed) }

    /// Takes a place for a new connection; `false` when all `limit` are taken. The place
    /// is given back when the channel closes.
    func admit(_ channel: any Channel) -> Bool {
        var current = open.load(ordering: .relaxed)
        while current < limit {
            let (exchanged, original) = open.compareExchange(expected: current, desired: current + 1, ordering: .relaxed)
            if exchanged {
                gauge.record(current + 1)
                channel.closeFuture.whenComplete { _ in
                    let left = self.open.subtract(1, ordering: .relaxed).newValue
                    self.gauge.record(left)
                }
                return true
            }
            current = original
        }
        return false
    }

    /// Answers `channel` with the one `too_many_connections` line, then closes it.
    func refuse(_ channel: any Channel) throws {
        refusedCounter.increment()
        if let unlogged = throttle.withLock({ $0.record(at: .now) }) {
            logger.warning(
                "refusing feed connections: at the limit (raise --max-connections and the file-descriptor limit together, or find the client opening them)",
                metadata: [
                    "limit": "\(limit)", "peer": "\(channel.remoteAddress.map { "\($0)" } ?? "unknown")",
                    "refused_unlogged": "\(unlogged)",
                ]
            )
        }
        try channel.pipeline.syncOperations.addHandler(RefusalHandler(line: ByteBuffer(bytes: refusal)))
    }
}
