import FeedServer
import Logging
import Metrics
import PostgresStore
import ServiceLifecycle
import Supervision
import Synchronization

/// Stores each feed connection's session (`feed_sessions`: peer, client certificate
/// subject, transport, connect time) so "who sent what" can be answered later.
///
/// The listener hands sessions over without waiting (``record(_:)``); they are written
/// a few at a time in the background, so a slow database never delays a connection.
/// While PostgreSQL is away they wait (the newest 10,000; older ones are counted in
/// `vigil_feed_sessions_dropped_total` and logged) and are written when it is back.
public final class FeedSessionRecorder: Service, Sendable {
    private let database: PostgresConfiguration
    private let pending = Mutex<[FeedSession]>([])
    private let capacity: Int
    private let flushInterval: Duration
    private let logger: Logger
    private let dropped = Counter(label: "vigil_feed_sessions_dropped_total")

    /// Creates a recorder writing to `database`.
    public init(
        database: PostgresConfiguration, capacity: Int = 10_000, flushInterval: Duration = .milliseconds(200),
        logger: Logger = Logger(label: "vigil.feed.sessions")
    ) {
        self.database = database
        self.capacity = max(1, capacity)
        self.flushInterval = flushInterval
        self.logger = logger
    }

    /// Queues one session to be stored (never blocks).
    public func record(_ session: FeedSession) {
        let overflow = pending.withLock { queue -> Int in
            queue.append(session)
            let excess = queue.count - capacity
            if excess > 0 { queue.removeFirst(excess) }
            return max(0, excess)
        }
        if overflow > 0 {
            dropped.increment(by: overflow)
            logger.warning(
                "feed sessions not stored: PostgreSQL is behind; the oldest waiting sessions were dropped", metadata: ["dropped": "\(overflow)"])
        }
    }

    public func run() async throws {
        // A thrown error (PostgreSQL gone) restarts us with backoff; the sessions wait.
        try await PostgresConnection.withConnection(database) { db in
            await cancelWhenGracefulShutdown {
                while !Task.isCancelled {
                    try? await Task.sleep(for: self.flushInterval)
                    do {
                        try await self.flush(db)
                    } catch {
                        self.logger.warning("cannot store feed sessions yet; they wait", metadata: ["error": "\(error)"])
                        return
                    }
                }
            }
            try await flush(db)  // the last sessions of a graceful shutdown
        }
    }

    private func flush(_ db: PostgresConnection) async throws {
        let batch = pending.withLock { queue -> [FeedSession] in
            defer { queue.removeAll(keepingCapacity: true) }
            return queue
        }
        guard !batch.isEmpty else { return }
        do {
            try await db.transaction { db in
                for session in batch {
                    _ = try db.execute(
                        """
                        INSERT INTO feed_sessions (id, peer, subject, transport, connected_at)
                        VALUES (\(session.id), \(session.peer), \(session.subject), \(session.transport.rawValue), \(session.connectedAt))
                        ON CONFLICT (id) DO NOTHING
                        """)
                }
            }
        } catch {
            pending.withLock { $0.insert(contentsOf: batch, at: 0) }
            throw error
        }
    }
}

extension ServeConfiguration {
    /// Stores every feed connection in `feed_sessions` (a child of the pipeline supervisor).
    public mutating func recordFeedSessions() {
        var sessionDatabase = database
        sessionDatabase.applicationName = "vigil-feed-sessions"
        let recorder = FeedSessionRecorder(database: sessionDatabase)
        feed.onSession = { recorder.record($0) }
        extraPipelineChildren.append(ChildSpec(name: "feed-sessions", shutdownTimeout: .seconds(5), service: recorder))
    }
}
