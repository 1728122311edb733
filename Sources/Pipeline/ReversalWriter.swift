import FeedProtocol
import FeedServer
import ISO8583
import Logging
import Metrics
import PostgresStore
import ServiceLifecycle
import Supervision
import Synchronization

/// Stores ISO 8583 reversals in `reversals` and answers each after its commit.
///
/// Reversals are rare next to transactions and touch no detection state, so they take
/// their own small path: a bounded mailbox (a full one suspends the connection that sent
/// the reversal, as the ingest mailbox does) and one connection storing whatever has
/// arrived in one database transaction. A repeat of a stored reversal (same correlation
/// key) is answered as a duplicate, with the same response. A batch in hand when
/// PostgreSQL goes away is kept and stored first after the supervisor restarts the stage.
public final class ReversalWriter: Service, ReversalSink, Sendable {
    private let input: Mailbox<ReversalRecord>
    private let database: PostgresConfiguration
    private let health: PipelineHealth
    private let logger: Logger
    private let pending = Mutex<[ReversalRecord]>([])
    private let stored = Counter(label: "vigil_reversals_total", dimensions: [("outcome", "stored")])
    private let duplicates = Counter(label: "vigil_reversals_total", dimensions: [("outcome", "duplicate")])

    /// Creates the stage; `capacity` reversals may wait for it.
    public init(database: PostgresConfiguration, health: PipelineHealth, capacity: Int = 1024, logger: Logger = Logger(label: "vigil.reversals")) {
        self.input = Mailbox(capacity: capacity)
        self.database = database
        self.health = health
        self.logger = logger
    }

    public func submit(_ reversal: ReversalRecord) async throws {
        try await input.send(reversal)
    }

    public func run() async throws {
        // Not before the start-up check has found the schema current.
        guard (try? await cancelWhenGracefulShutdown({ await self.health.databaseVerified.wait() })) == true else { return }
        var configuration = database
        configuration.applicationName = "vigil-reversals"
        let db = try await PostgresConnection.connect(configuration)
        defer { Task { await db.close() } }
        try await withGracefulShutdownHandler {
            while true {
                var batch = self.pending.withLock { $0 }
                if batch.isEmpty {
                    guard let next = try await self.input.next(maxCount: 256) else { return }
                    batch = next
                    self.pending.withLock { $0 = batch }
                }
                try await self.store(batch, on: db)
                self.pending.withLock { $0 = [] }
            }
        } onGracefulShutdown: {
            self.input.finish()
        }
    }

    /// Stores `batch` in one transaction, then answers each reversal.
    private func store(_ batch: [ReversalRecord], on db: PostgresConnection) async throws {
        let inserted: [Bool]
        do {
            inserted = try await db.transaction { db in
                try batch.map { record in
                    let reversal = record.reversal
                    let count = try db.execute(
                        """
                        INSERT INTO reversals (id, original_id, mti, amount_minor, currency, reversed_at, feed_session, raw)
                        VALUES (\(reversal.id), \(reversal.originalID), \(reversal.mti), \(reversal.amount?.minorUnits),
                                \(reversal.amount?.currency.code), \(reversal.reversedAt), \(record.session),
                                \(PostgresJSON(String(decoding: reversal.raw, as: UTF8.self)))::jsonb)
                        ON CONFLICT (id) DO NOTHING
                        """)
                    return count == 1
                }
            }
        } catch let error as PostgresError where error.isConnectionError {
            logger.error(
                "lost PostgreSQL while storing reversals; they will be retried", metadata: ["reversals": "\(batch.count)", "error": "\(error)"])
            throw error
        } catch {
            // Refused by the server (not a lost connection): retrying would refuse again.
            logger.error("PostgreSQL refused a batch of reversals; answered as not stored", metadata: ["error": "\(error)"])
            for record in batch {
                record.reply(
                    .nack(FeedRejection(code: .storageRefused, recordID: record.reversal.id, message: "the reversal could not be stored: \(error)")))
            }
            return
        }
        for (record, new) in zip(batch, inserted) {
            record.reply(.ack(id: record.reversal.id, duplicate: !new))
        }
        stored.increment(by: inserted.filter { $0 }.count)
        duplicates.increment(by: inserted.filter { !$0 }.count)
    }
}
