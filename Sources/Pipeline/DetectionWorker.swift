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
    private let logger: Logger
    private let evaluated = Counter(label: "vigil_transactions_evaluated_total")
    private let ruleErrors = Counter(label: "vigil_rule_evaluation_errors_total")
    private let lateRecords = Counter(label: "vigil_records_late_total")
    private let depth: Gauge
    /// A batch taken from the mailbox and not yet handed on, kept across restarts so a
    /// lost database connection loses no record: `input` still to evaluate, `results`
    /// evaluated (state already updated) and still to hand to the writer.
    private let pending = Mutex<(input: [FeedRecord], results: [PipelineItem])>(([], []))

    /// Creates worker `index`, reading `input` and handing results to `output`.
    public init(
        index: Int, input: Mailbox<FeedRecord>, output: Mailbox<PipelineItem>, state: DetectionState,
        database: PostgresConfiguration, faults: FaultInjection = .none, logger: Logger = Logger(label: "vigil.detect")
    ) {
        self.faults = faults
        self.index = index
        self.input = input
        self.output = output
        self.state = state
        self.database = database
        self.logger = logger
        self.depth = Gauge(label: "vigil_mailbox_depth", dimensions: [("stage", "detect-\(index)")])
    }

    public func run() async throws {
        // Until state is loaded; a shutdown meanwhile ends the wait (there is nothing to drain yet).
        guard (try? await cancelWhenGracefulShutdown({ await self.state.ready.wait() })) == true else { return }
        let db = try await PostgresConnection.connect(database)
        defer { Task { await db.close() } }
        try await withGracefulShutdownHandler {
            try await self.loop(db)
        } onGracefulShutdown: {
            // The feed has stopped reading by now; pass on what is queued.
            self.input.finish()
        }
    }

    private func loop(_ db: PostgresConnection) async throws {
        var detector = Detector()
        while true {
            let carriedResults = pending.withLock { $0.results }
            if !carriedResults.isEmpty {
                try await output.send(contentsOf: carriedResults)
                pending.withLock { $0.results = [] }
                continue
            }
            var batch = pending.withLock { $0.input }
            if batch.isEmpty {
                guard let next = try await input.next(maxCount: 512) else { return }
                batch = next
                pending.withLock { $0.input = next }
            }
            depth.record(input.count)
            try faults.check("detect")
            // A sender's replay after a crash may repeat transactions stored before the
            // restart, which profiles and windows (rebuilt from the database) already
            // count: one indexed lookup per batch keeps them from counting twice (its cost
            // is measured in docs/benchmarks.md).
            let stored = try await DetectionStore.storedIDs(batch.compactMap(\.transactionID), on: db)
            let results = decide(batch, stored: stored, detector: &detector)
            pending.withLock { $0 = ([], results) }
            try await output.send(contentsOf: results)
            pending.withLock { $0.results = [] }
        }
    }

    /// Each record as the writer takes it: evaluated, or passed on as a replay.
    private func decide(_ batch: [FeedRecord], stored: Set<String>, detector: inout Detector) -> [PipelineItem] {
        let reference = state.reference.snapshot
        var results: [PipelineItem] = []
        results.reserveCapacity(batch.count)
        var errorCount = 0
        var lateCount = 0
        state.partitions[index].state.withLock { memory in
            // Read under the partition lock: a reload swaps ruleset and windows while
            // holding every partition, so a batch sees one ruleset or the other.
            let context = DetectionContext(
                ruleset: state.rules.ruleset, shared: state.shared, history: state.history, reference: reference,
                allowedLatenessMicroseconds: state.allowedLatenessMicroseconds)
            for record in batch {
                guard case .transaction(let tx) = record.payload else {
                    results.append(PipelineItem(unevaluated: record))
                    continue
                }
                let row = TransactionRow(tx, rawLine: record.rawLine, peer: record.peer, session: record.session)
                // A record of another partition's account is here only because its id was
                // in flight here (see `InFlightIDs`): never evaluated here. It is remembered
                // all the same, so that in the rare order where it arrives before the record
                // it repeats (two connections, a full mailbox), that record is not evaluated
                // either: one of them is refused as a conflict, and no state may count it.
                guard !stored.contains(tx.id), memory.firstSighting(of: tx.id), state.partition(of: tx.accountID) == index else {
                    results.append(PipelineItem(record: record, state: .replayed(row)))
                    continue
                }
                let decision = detector.detect(tx, memory: &memory, context: context)
                if decision.late { lateCount += 1 }
                for (ruleID, error) in decision.evaluationErrors {
                    errorCount += 1
                    logger.debug("rule evaluation failed", metadata: ["rule": "\(ruleID)", "transaction": "\(tx.id)", "error": "\(error)"])
                }
                results.append(PipelineItem(record: record, state: .evaluated(Evaluation(row: row, decision: decision))))
            }
        }
        evaluated.increment(by: batch.count)
        if errorCount > 0 { ruleErrors.increment(by: errorCount) }
        if lateCount > 0 { lateRecords.increment(by: lateCount) }
        return results
    }
}
