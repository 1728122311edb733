import Detection
import FeedProtocol
import Logging
import Metrics
import PostgresStore
import ServiceLifecycle
import Supervision
import Synchronization
import VigilCore

/// Stores batches in PostgreSQL and only then answers the senders.
///
/// Takes up to `batchSize` records, or what arrived within `linger` of the first, and
/// stores them in one database transaction. With no linger (the default) this is group
/// commit: the next batch is whatever arrived while the previous one committed, so
/// batches grow with the load and a quiet feed waits for nothing but its own commit. A batch in hand when the connection
/// breaks is kept and stored first when the supervisor restarts the stage, so every
/// record read is eventually stored and acked exactly once, and nothing is acked
/// before its commit. Meanwhile the mailbox fills and the feed stops reading.
public final class WriterStage: Service, Sendable {
    /// Batching and connection settings.
    public struct Configuration: Sendable {
        public var database: PostgresConfiguration
        public var batchSize: Int
        public var linger: Duration

        /// Creates a configuration.
        public init(database: PostgresConfiguration, batchSize: Int = 1000, linger: Duration = .zero) {
            self.database = database
            self.batchSize = batchSize
            self.linger = linger
        }
    }

    private let configuration: Configuration
    private let input: Mailbox<PipelineItem>
    private let health: PipelineHealth
    private let logger: Logger
    private let pending = Mutex<[PipelineItem]>([])
    private let alertHook: DetectionWriter.AlertHook?
    private let faults: FaultInjection
    private let broadcaster: AlertBroadcaster?
    /// Profiles changed since the last checkpoint, for the `ProfileCheckpointer`.
    private let dirtyProfiles: DirtyProfiles
    /// Card, device and merchant histories changed since the last checkpoint.
    private let dirtyEntities: DirtyEntities
    /// Ids routed by the feed and not yet settled; released after each commit.
    private let inFlight: InFlightIDs?
    /// Where the fallbacks' outcomes go after each commit, for their later evaluation.
    private let fallbacks: FallbackLedger?
    /// Every stored id, for the detection workers: added after each commit, before the replies.
    private let storedIDs: StoredIDFilter?
    /// With `--ha`: the fencing token checked in every batch's transaction.
    private let leadership: Leadership?
    private let alertsCounter = Counter(label: "vigil_alerts_total")
    private let stored = Counter(label: "vigil_records_stored_total")
    private let duplicates = Counter(label: "vigil_records_duplicate_total")
    private let rejected = Counter(label: "vigil_records_rejected_total")
    private let idConflicts = Counter(label: "vigil_records_id_conflict_total")
    private let batches = Counter(label: "vigil_writer_batches_total")
    private let depth = Gauge(label: "vigil_mailbox_depth", dimensions: [("stage", "writer")])
    private let commitTimer = Timer(label: "vigil_writer_commit_seconds")
    private let metrics = DecisionMetrics()

    /// Creates the stage reading `input`.
    init(
        configuration: Configuration, input: Mailbox<PipelineItem>, health: PipelineHealth,
        alertHook: DetectionWriter.AlertHook? = nil, broadcaster: AlertBroadcaster? = nil,
        dirtyProfiles: DirtyProfiles = DirtyProfiles(), dirtyEntities: DirtyEntities = .histories(), inFlight: InFlightIDs? = nil,
        fallbacks: FallbackLedger? = nil, storedIDs: StoredIDFilter? = nil, leadership: Leadership? = nil,
        faults: FaultInjection = .none, logger: Logger = Logger(label: "vigil.writer")
    ) {
        self.leadership = leadership
        self.storedIDs = storedIDs
        self.fallbacks = fallbacks
        self.dirtyProfiles = dirtyProfiles
        self.dirtyEntities = dirtyEntities
        self.inFlight = inFlight
        self.faults = faults
        self.alertHook = alertHook
        self.broadcaster = broadcaster
        self.configuration = configuration
        self.input = input
        self.health = health
        self.logger = logger
    }

    /// Records taken from the mailbox but not yet committed (kept across restarts).
    public var uncommitted: Int { pending.withLock { $0.count } }

    public func run() async throws {
        // Not before the start-up check has found the schema current.
        guard (try? await cancelWhenGracefulShutdown({ await self.health.databaseVerified.wait() })) == true else { return }
        let database: PostgresConnection
        do {
            database = try await PostgresConnection.connect(configuration.database)
        } catch {
            health.setDatabaseReachable(false, detail: "\(error)")
            throw error
        }
        health.setDatabaseReachable(true, detail: "connected")
        defer { Task { await database.close() } }

        // On the connection's thread: each batch's statements are then calls, not hops there and back.
        try await withGracefulShutdownHandler {
            try await withTaskExecutorPreference(database.taskExecutor) { try await self.loop(database) }
        } onGracefulShutdown: {
            // The feed has drained by now (it shuts down first): store what is left.
            self.input.finish()
        }
    }

    private func loop(_ database: PostgresConnection) async throws {
        while true {
            var batch = pending.withLock { $0 }
            if batch.isEmpty {
                guard let next = try await input.next(maxCount: configuration.batchSize, maxWait: configuration.linger) else {
                    return  // finished and drained
                }
                batch = next
                pending.withLock { $0 = batch }
            }
            depth.record(input.count)
            try faults.check("writer")
            try await faults.stall("writer")
            let started = ContinuousClock.now
            let outcomes: [IngestOutcome]
            let written: [WriteResult]
            // The decision each transaction's row carries, in the order of `outcomes`.
            var decisions: [TransactionDecision?] = []
            var replayedDecisions: [String: TransactionDecision] = [:]
            do {
                // Transactions go to the store in batch order; rejected lines alongside.
                var transactions: [PipelineItem] = []
                var rows: [TransactionRow] = []
                var rejected: [RejectedLine] = []
                var lateEvaluations: [Evaluation] = []
                transactions.reserveCapacity(batch.count)
                rows.reserveCapacity(batch.count)
                decisions.reserveCapacity(batch.count)
                for item in batch {
                    switch item.state {
                    case .rejected(let rejection):
                        rejected.append(
                            RejectedLine(
                                recordID: rejection.recordID, errorCode: rejection.code.rawValue,
                                message: rejection.message, rawLine: item.record.rawLine, peer: item.record.peer))
                    case .replayed(let row):
                        transactions.append(item)
                        rows.append(row)
                        decisions.append(row.decision)
                    case .evaluated(let evaluation):
                        transactions.append(item)
                        rows.append(evaluation.row)
                        decisions.append(evaluation.row.decision)
                    case .lateEvaluation(let evaluation):
                        lateEvaluations.append(evaluation)
                    }
                }
                let hook = alertHook
                let items = transactions
                let late = lateEvaluations
                let leadership = self.leadership
                // Most batches at a steady rate raise nothing: no hits, no alerts. Such a
                // batch, if its ids are new, commits in the query of its COPY (two round
                // trips, not four). Not with `--ha`: the fence goes in every transaction.
                // Planned as if every row is stored now, the usual case on either path.
                let planned = DetectionWriter.plan(items, storedNow: Array(items.indices), late: late)
                if rejected.isEmpty, leadership == nil, planned.writesNothing, let start = try await database.storeCommitted(rows) {
                    var result = planned.result
                    if !result.profiles.isEmpty { result.batchTime = start }
                    (outcomes, written) = (Array(repeating: .stored, count: rows.count), [result])
                } else {
                    (outcomes, written) = try await database.storeIngestBatch(rows, rejected: rejected) { db, storedNow, batchWork in
                        // The late evaluations are the batch's own work: written once, in
                        // the transaction that carries it.
                        let result =
                            batchWork && storedNow.count == items.count
                            ? try DetectionWriter.write(planned, on: db, alertHook: hook)
                            : try DetectionWriter.write(items, storedNow: storedNow, late: batchWork ? late : [], on: db, alertHook: hook)
                        // A node that lost the lease commits (and so acks) nothing more. Checked
                        // last, so the row lock it takes is held only until the COMMIT.
                        try leadership?.fence(on: db)
                        return result
                    }
                }
                // Committed: the ids the store holds now go into the detection workers'
                // filter before anything else can follow from this commit (the in-flight
                // release, the replies), so no record can meet its id stored and not in it.
                if let storedIDs {
                    var committed: [String] = []
                    committed.reserveCapacity(rows.count)
                    for index in outcomes.indices {
                        if case .refusedByDatabase = outcomes[index] { continue }
                        committed.append(rows[index].transaction.id)
                    }
                    storedIDs.add(committed)
                }
                // A replay is answered with the decision stored the first time, never with
                // a new evaluation (rare: one lookup for a batch that met duplicates).
                var duplicateIDs: [String] = []
                for index in outcomes.indices where outcomes[index] == .duplicate { duplicateIDs.append(rows[index].transaction.id) }
                replayedDecisions = try await database.storedDecisions(duplicateIDs)
            } catch let error as PostgresError where error.isConnectionError {
                health.setDatabaseReachable(false, detail: error.message)
                logger.error(
                    "lost PostgreSQL while storing a batch; it will be retried", metadata: ["records": "\(batch.count)", "error": "\(error)"])
                throw error
            }
            commitTimer.record(duration: ContinuousClock.now - started)
            pending.withLock { $0 = [] }
            batches.increment()
            for result in written {
                if let through = result.batchTime {
                    dirtyProfiles.add(result.profiles, through: through)
                    dirtyEntities.add(result.entities, through: through)
                }
            }
            // Committed: a later record with one of these ids finds it stored. The ids are
            // collected outside the table's lock.
            if let inFlight {
                var ids: [String] = []
                ids.reserveCapacity(batch.count)
                for index in batch.indices {
                    // A late evaluation's id was released when its fallback committed.
                    if case .lateEvaluation = batch[index].state { continue }
                    if let id = batch[index].record.transactionID { ids.append(id) }
                }
                inFlight.release(ids)
            }
            reply(batch, outcomes, decisions: decisions, replayed: replayedDecisions)
            let alerts = written.flatMap(\.alerts)
            alertsCounter.increment(by: alerts.count)
            broadcaster?.publish(alerts)
        }
    }

    /// Answers every record of a committed batch; `outcomes` are its transactions', in
    /// order, and `decisions` what their rows carry; `replayed` the stored decisions of
    /// the duplicates.
    private func reply(
        _ batch: [PipelineItem], _ outcomes: [IngestOutcome], decisions: [TransactionDecision?], replayed: [String: TransactionDecision]
    ) {
        var storedCount = 0
        var duplicateCount = 0
        var rejectedCount = 0
        var conflictCount = 0
        var position = 0
        var settled: [(id: String, storedNow: Bool)] = []
        for index in batch.indices {
            // Only the record is read (its state is rejected exactly when its payload is).
            if case .lateEvaluation = batch[index].state { continue }  // answered with its fallback
            let record = batch[index].record
            guard let id = record.transactionID else {
                rejectedCount += 1
                if case .rejected(let rejection) = record.payload { record.reply(.nack(rejection)) }
                continue
            }
            // The store answers one outcome per transaction it was given, in order.
            guard position < outcomes.count else { continue }
            let outcome = outcomes[position]
            let decision = position < decisions.count ? decisions[position] : nil
            position += 1
            if record.fallback != nil { settled.append((id, outcome == .stored)) }
            let reply: FeedReply
            switch outcome {
            case .stored:
                storedCount += 1
                reply = .ack(id: id, duplicate: false, decision: decision)
                if let decision { metrics.count(decision, since: record.arrival) }
            case .duplicate:
                duplicateCount += 1
                let stored = replayed[id]
                reply = .ack(id: id, duplicate: true, decision: stored)
                if let stored { metrics.count(stored, since: record.arrival) }
            case .refusedByDatabase(let message):
                rejectedCount += 1
                reply = .nack(FeedRejection(code: .storageRefused, recordID: id, message: message))
            case .idConflict(let message, let storedDigest, let receivedDigest):
                rejectedCount += 1
                conflictCount += 1
                // A sender reusing ids loses transactions unless someone looks: say it loudly.
                logger.warning(
                    "id conflict: a record reused a stored transaction id with different content; nacked and kept in rejected_records",
                    metadata: [
                        "id": "\(id)", "peer": "\(record.peer)",
                        "stored_digest": "\(storedDigest)", "received_digest": "\(receivedDigest)",
                    ])
                reply = .nack(FeedRejection(code: .idConflict, recordID: id, message: message))
            }
            record.reply(reply)
        }
        fallbacks?.settle(settled)
        stored.increment(by: storedCount)
        duplicates.increment(by: duplicateCount)
        rejected.increment(by: rejectedCount)
        if conflictCount > 0 { idConflicts.increment(by: conflictCount) }
    }
}
