import Detection
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
/// Reversals are rare next to transactions, so they take their own small path: a bounded
/// mailbox (a full one suspends the connection that sent the reversal, as the ingest
/// mailbox does) and one connection storing whatever has arrived in one database
/// transaction. A repeat of a stored reversal (same correlation key) is answered as a
/// duplicate, with the same response. A batch in hand when PostgreSQL goes away is kept
/// and stored first after the supervisor restarts the stage.
///
/// The same transaction decides whether the reversal counts in the card's, device's and
/// merchant's `reversals` (its original is stored, and no earlier reversal of it counts:
/// `reversals.counted`, migration 0023) and reads the original's entities; after the
/// commit they are counted in the shared histories, under their shard locks like a
/// worker's update. It starts storing only once detection state is loaded, so a load at
/// start (which sets the counts from the stored rows) never races a count.
public final class ReversalWriter: Service, ReversalSink, Sendable {
    private let input: Mailbox<ReversalRecord>
    private let database: PostgresConfiguration
    private let health: PipelineHealth
    private let detection: DetectionState?
    private let leadership: Leadership?
    private let logger: Logger
    private let pending = Mutex<[ReversalRecord]>([])
    private let stored = Counter(label: "vigil_reversals_total", dimensions: [("outcome", "stored")])
    private let duplicates = Counter(label: "vigil_reversals_total", dimensions: [("outcome", "duplicate")])

    /// Creates the stage; `capacity` reversals may wait for it.
    public init(
        database: PostgresConfiguration, health: PipelineHealth, detection: DetectionState? = nil, leadership: Leadership? = nil,
        capacity: Int = 1024, logger: Logger = Logger(label: "vigil.reversals")
    ) {
        self.leadership = leadership
        self.input = Mailbox(capacity: capacity)
        self.database = database
        self.health = health
        self.detection = detection
        self.logger = logger
    }

    public func submit(_ reversal: ReversalRecord) async throws {
        try await input.send(reversal)
    }

    public func run() async throws {
        // Not before the start-up check has found the schema current.
        guard (try? await cancelWhenGracefulShutdown({ await self.health.databaseVerified.wait() })) == true else { return }
        if let detection {
            guard (try? await cancelWhenGracefulShutdown({ await detection.ready.wait() })) == true else { return }
        }
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

    /// What storing one reversal did.
    enum Stored: Sendable, Equatable {
        /// Already stored (same correlation key).
        case duplicate
        /// Stored; `counted`: the entities of its original, whose `reversals` it adds one to.
        case stored(counted: [EntityKey])
    }

    /// Stores `batch` in one transaction, then counts what it reversed and answers each reversal.
    private func store(_ batch: [ReversalRecord], on db: PostgresConnection) async throws {
        let outcomes: [Stored]
        do {
            let leadership = self.leadership
            outcomes = try await db.transaction { db in
                let outcomes = try batch.map { try Self.insert($0, on: db) }
                // As the writer's batches: a node that lost the lease commits nothing more,
                // so no reversal is stored (and counted by nobody) after a takeover counted.
                try leadership?.fence(on: db)
                return outcomes
            }
        } catch let fenced as Leadership.Fenced {
            for record in batch { record.reply(.nack(.notLeader(leader: nil))) }
            pending.withLock { $0 = [] }
            throw fenced
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
        // Counted before any answer: a transaction the sender sends after the reversal's
        // answer sees it.
        for case .stored(let keys) in outcomes {
            for key in keys { detection?.history.addReversal(key) }
        }
        for (record, outcome) in zip(batch, outcomes) {
            record.reply(.ack(id: record.reversal.id, duplicate: outcome == .duplicate))
        }
        let new = outcomes.filter { $0 != .duplicate }.count
        stored.increment(by: new)
        duplicates.increment(by: outcomes.count - new)
    }

    /// Inserts one reversal, deciding in the same statement whether it counts (its
    /// original is stored, no earlier reversal of it counts) and reading the original's
    /// card, device and merchant when it does. Earlier reversals of the same batch are
    /// seen: one statement after another in one transaction.
    static func insert(_ record: ReversalRecord, on db: isolated PostgresConnection) throws -> Stored {
        let reversal = record.reversal
        let rows = try db.query(
            """
            WITH inserted AS (
                INSERT INTO reversals (id, original_id, mti, amount_minor, currency, reversed_at, feed_session, raw, counted)
                VALUES (\(reversal.id), \(reversal.originalID), \(reversal.mti), \(reversal.amount?.minorUnits),
                        \(reversal.amount?.currency.code), \(reversal.reversedAt), \(record.session),
                        \(PostgresJSON(String(decoding: reversal.raw, as: UTF8.self)))::jsonb,
                        EXISTS (SELECT 1 FROM transactions WHERE id = \(reversal.originalID))
                        AND NOT EXISTS (SELECT 1 FROM reversals WHERE original_id = \(reversal.originalID) AND counted))
                ON CONFLICT (id) DO NOTHING
                RETURNING counted
            )
            SELECT i.counted, t.card_id, t.device_id, t.merchant_id
            FROM inserted i LEFT JOIN transactions t ON i.counted AND t.id = \(reversal.originalID)
            """)
        guard let row = rows.first else { return .duplicate }
        guard try row.decode(0, as: Bool.self) else { return .stored(counted: []) }
        return .stored(counted: try DetectionStore.reversedKeys(row, from: 1))
    }
}
