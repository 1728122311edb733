import Detection
import FeedServer
import Logging
import Metrics
import PostgresStore
import RuleLanguage
import ServiceLifecycle
import Supervision
import Synchronization
import VigilCore

/// The stage loop around `Detector.detect` for the accounts of one partition, in their order.
///
/// One worker per partition of accounts: it alone updates those accounts' profiles
/// and account-keyed windows, so they need no lock. Windows keyed by card, device or ip
/// span accounts and live in `SharedWindows`. A transaction already stored or seen
/// recently (a sender's replay) is passed on `.replayed`, so state never counts it twice.
public final class DetectionWorker: Service, Sendable {
    private let index: Int
    private let input: Mailbox<FeedRecord>
    private let output: Mailbox<PipelineItem>
    private let state: DetectionState
    private let database: PostgresConfiguration
    private let faults: FaultInjection
    /// Stored with a replay that turns out new (it was not evaluated here).
    private let notEvaluated: TransactionDecision
    private let logger: Logger
    private let evaluated = Counter(label: "vigil_transactions_evaluated_total")
    private let ruleMetrics: RuleMetrics
    private let lateRecords = Counter(label: "vigil_records_late_total")
    private let depth: Gauge
    /// A batch taken from the mailbox and not yet handed on, kept across restarts so a
    /// lost database connection loses no record, and shared with the decision deadline.
    private let backlog: DetectionBacklog
    /// Whether each record answered with the fallback was stored now (then it is evaluated).
    private let fallbacks: FallbackLedger
    /// Which ids may be stored already: only those are looked up.
    private let storedIDs: StoredIDFilter
    /// How long a record answered with the fallback may wait for the writer to settle it
    /// before its evaluation is given up (its fallback was lost, or PostgreSQL is away).
    private static let fallbackCommitWait: Duration = .seconds(30)

    /// Creates worker `index`, reading `input` and handing results to `output`.
    public init(
        index: Int, input: Mailbox<FeedRecord>, output: Mailbox<PipelineItem>, state: DetectionState,
        database: PostgresConfiguration, backlog: DetectionBacklog = DetectionBacklog(), fallbacks: FallbackLedger = FallbackLedger(),
        storedIDs: StoredIDFilter = StoredIDFilter(), notEvaluated: TransactionDecision = .fallback(.review, reason: .notEvaluated),
        faults: FaultInjection = .none, logger: Logger = Logger(label: "vigil.detect")
    ) {
        self.backlog = backlog
        self.fallbacks = fallbacks
        self.storedIDs = storedIDs
        self.notEvaluated = notEvaluated
        self.faults = faults
        self.index = index
        self.input = input
        self.output = output
        self.state = state
        self.database = database
        self.logger = logger
        self.depth = Gauge(label: "vigil_mailbox_depth", dimensions: [("stage", "detect-\(index)")])
        self.ruleMetrics = RuleMetrics()
    }

    public func run() async throws {
        // Until state is loaded; a shutdown meanwhile ends the wait (there is nothing to drain yet).
        guard (try? await cancelWhenGracefulShutdown({ await self.state.ready.wait() })) == true else { return }
        let db = try await PostgresConnection.connect(database)
        defer { Task { await db.close() } }
        // On the connection's thread: the stored-id lookup of each batch is then a call, not a hop there and back.
        try await withGracefulShutdownHandler {
            try await withTaskExecutorPreference(db.taskExecutor) { try await self.loop(db) }
        } onGracefulShutdown: {
            // The feed has stopped reading by now; pass on what is queued.
            self.input.finish()
        }
    }

    private func loop(_ db: PostgresConnection) async throws {
        var detector = Detector()
        // Claims of an incarnation that stopped before deciding: the deadline may answer those again.
        backlog.releaseClaims()
        var waitingForFallbacks: ContinuousClock.Instant? = nil
        while true {
            let carriedResults = backlog.pending.withLock { $0.results }
            if !carriedResults.isEmpty {
                try await output.send(contentsOf: carriedResults)
                backlog.pending.withLock { $0.results = [] }
                continue
            }
            var batch = backlog.pending.withLock { $0.input }
            if batch.isEmpty {
                guard let next = try await input.next(maxCount: 512) else { return }
                batch = next
                backlog.pending.withLock { $0.input = next }
            }
            depth.record(input.count)
            try faults.check("detect")
            try await faults.stall("detect")
            // A sender's replay after a crash may repeat transactions stored before the
            // restart, which profiles and windows (rebuilt from the database) already
            // count: an indexed lookup of the ids that may be stored keeps them from
            // counting twice. Once the filter is loaded, a batch of new ids (nearly every
            // batch of a live feed) needs none (costs in docs/benchmarks.md).
            let candidates = storedIDs.mayBeStored(batch.compactMap(\.transactionID))
            let stored = candidates.isEmpty ? [] : try await DetectionStore.storedIDs(candidates, on: db)
            // From here the deadline leaves the batch alone; what it answered already is
            // evaluated once the writer has settled its fallback (its hits and alert refer
            // to the row, and a fallback that was a replay must not count twice).
            batch = backlog.claimInput()
            if batch.contains(where: { $0.fallback != nil && !fallbacks.isSettled($0.transactionID ?? "") }) {
                let since = waitingForFallbacks ?? .now
                waitingForFallbacks = since
                if ContinuousClock.now - since < Self.fallbackCommitWait {
                    try await Task.sleep(for: .milliseconds(2))
                    continue
                }
                logger.warning("records answered with the fallback were not settled by the writer in time; their evaluation is skipped")
            }
            waitingForFallbacks = nil
            let results = decide(batch, stored: stored, detector: &detector)
            backlog.pending.withLock { $0 = ([], results) }
            try await output.send(contentsOf: results)
            backlog.pending.withLock { $0.results = [] }
        }
    }

    /// Each record as the writer takes it: evaluated, or passed on as a replay.
    private func decide(_ batch: [FeedRecord], stored: Set<String>, detector: inout Detector) -> [PipelineItem] {
        let reference = state.reference.snapshot
        var results: [PipelineItem] = []
        results.reserveCapacity(batch.count)
        var errors: [String: Int] = [:]
        var hits: [String: (mode: RuleMode, count: Int)] = [:]
        var lateCount = 0
        state.partitions[index].state.withLock { memory in
            // Read under the partition lock: a reload swaps ruleset and windows while
            // holding every partition, so a batch sees one ruleset or the other.
            let context = DetectionContext(
                ruleset: state.rules.ruleset, shared: state.shared, history: state.history, reference: reference,
                allowedLatenessMicroseconds: state.allowedLatenessMicroseconds)
            for record in batch {
                guard case .transaction(let tx) = record.payload else {
                    results.append(PipelineItem(unevaluated: record, decision: notEvaluated))
                    continue
                }
                // Answered with the fallback already (its row is stored): evaluated all the
                // same, so windows, profiles and alerts miss nothing, and never answered again.
                if let fallback = record.fallback {
                    guard fallbacks.take(tx.id), memory.firstSighting(of: tx.id), state.partition(of: tx.accountID) == index else { continue }
                    let decision = detector.detect(tx, memory: &memory, context: context)
                    let row = TransactionRow(tx, rawLine: record.rawLine, peer: record.peer, session: record.session, decision: fallback)
                    results.append(PipelineItem(record: record, state: .lateEvaluation(Evaluation(row: row, decision: decision))))
                    continue
                }
                // A record of another partition's account is here only because its id was
                // in flight here (see `InFlightIDs`): never evaluated here. It is remembered
                // all the same, so that in the rare order where it arrives before the record
                // it repeats (two connections, a full mailbox), that record is not evaluated
                // either: one of them is refused as a conflict, and no state may count it.
                guard !stored.contains(tx.id), memory.firstSighting(of: tx.id), state.partition(of: tx.accountID) == index else {
                    let row = TransactionRow(tx, rawLine: record.rawLine, peer: record.peer, session: record.session, decision: notEvaluated)
                    results.append(PipelineItem(record: record, state: .replayed(row)))
                    continue
                }
                let decision = detector.detect(tx, memory: &memory, context: context)
                // The decision goes into the row: it is stored with the transaction, so a
                // replay is answered with it, whatever ruleset runs by then.
                let row = TransactionRow(tx, rawLine: record.rawLine, peer: record.peer, session: record.session, decision: decision.verdict)
                if decision.late { lateCount += 1 }
                for hit in decision.hits { hits[hit.ruleID, default: (hit.mode, 0)].count += 1 }
                for (ruleID, error) in decision.evaluationErrors {
                    errors[ruleID, default: 0] += 1
                    logger.debug("rule evaluation failed", metadata: ["rule": "\(ruleID)", "transaction": "\(tx.id)", "error": "\(error)"])
                }
                results.append(PipelineItem(record: record, state: .evaluated(Evaluation(row: row, decision: decision))))
            }
        }
        evaluated.increment(by: batch.count)
        ruleMetrics.record(hits: hits, errors: errors)
        if lateCount > 0 { lateRecords.increment(by: lateCount) }
        return results
    }
}
