import Enrichment
import Logging
import Metrics
import PostgresStore
import RuleLanguage
import ServiceLifecycle
import Supervision
import Synchronization
import VigilCore

/// Enriches and evaluates the transactions of the accounts it owns, in their order.
///
/// One worker per partition of accounts: it alone updates those accounts' profiles
/// and account-keyed windows, so they need no lock. Windows keyed by card, device or ip
/// span accounts and live in `SharedWindows`. A transaction already stored (a sender's
/// replay after a crash) is passed on untouched, so state never counts it twice.
public final class DetectionWorker: Service, Sendable {
    private let index: Int
    private let input: Mailbox<PipelineItem>
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
    private let pending = Mutex<(input: [PipelineItem], results: [PipelineItem])>(([], []))

    /// Creates worker `index`, reading `input` and handing results to `output`.
    public init(index: Int, input: Mailbox<PipelineItem>, output: Mailbox<PipelineItem>, state: DetectionState,
                database: PostgresConfiguration, faults: FaultInjection = .none, logger: Logger = Logger(label: "vigil.detect")) {
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
        var record = EvaluationRecord(windowCount: 0)
        var outcomes = RuleOutcomes()
        while true {
            let carriedResults = pending.withLock { $0.results }
            if !carriedResults.isEmpty {
                try await output.send(contentsOf: carriedResults)
                pending.withLock { $0.results = [] }
                continue
            }
            // The batch itself stays only in `pending` (no other reference), so it can be
            // updated in place below.
            var ids = pending.withLock { $0.input.isEmpty ? nil : $0.input.compactMap(\.record.transactionID) }
            if ids == nil {
                guard let next = try await input.next(maxCount: 512) else { return }
                ids = next.compactMap(\.record.transactionID)
                pending.withLock { $0.input = next }
            }
            depth.record(input.count)
            try faults.check("detect")
            let stored = try await DetectionStore.storedIDs(ids ?? [], on: db)
            let reference = state.reference.snapshot
            // Nothing below throws until the results are kept in `pending`, so the batch can
            // leave it and be updated in place (no copy of each item).
            var results = pending.withLock { p in defer { p.input = [] }; return p.input }
            state.partitions[index].state.withLock { partition in
                // Read under the partition lock: a reload swaps ruleset and windows while
                // holding every partition, so a batch sees one ruleset or the other.
                let ruleset = state.rules.ruleset
                let shared = state.shared
                let lists = reference.listSnapshot(for: ruleset)
                if record.windows.count != ruleset.windows.count { record = EvaluationRecord(for: ruleset) }
                for i in results.indices {
                    if case .transaction(let tx) = results[i].record.payload,
                       !stored.contains(tx.id), partition.recentIDs.insert(tx.id).inserted {
                        Self.remember(tx.id, in: &partition)
                        // A record of another partition's account is here only because its id
                        // was in flight here (see `InFlightIDs`): never evaluated here. It is
                        // remembered all the same, so that in the rare order where it arrives
                        // before the record it repeats (two connections, a full mailbox), that
                        // record is not evaluated either: one of them is refused as a conflict,
                        // and no state may count it.
                        guard state.partition(of: tx.accountID) == index else { continue }
                        results[i].detection = detect(tx, record: &record, outcomes: &outcomes, ruleset: ruleset, shared: shared,
                                                      reference: reference, lists: lists, partition: &partition)
                        var row = CopyTextEncoder(capacity: results[i].record.rawLine.count + 192)
                        results[i].contentDigest = row.appendTransactionRow(tx, rawLine: results[i].record.rawLine)
                        results[i].copyRow = row.bytes
                    }
                }
            }
            evaluated.increment(by: results.count)
            pending.withLock { $0 = ([], results) }
            try await output.send(contentsOf: results)
            pending.withLock { $0.results = [] }
        }
    }

    private func detect(
        _ tx: Transaction, record: inout EvaluationRecord, outcomes: inout RuleOutcomes, ruleset: CompiledRuleset,
        shared: SharedWindows, reference: ReferenceSnapshot, lists: ListSnapshot, partition: inout PartitionState.State
    ) -> Detection {
        // Taken out and put back: updated with no other copy of it alive in the table.
        var profile = partition.profiles.removeValue(forKey: tx.accountID) ?? AccountProfile()
        let derived = Enricher.fill(&record, transaction: tx, reference: reference, profile: profile)
        // Event time, not arrival, orders windows. A record dated further back than the
        // allowed lateness before its account's newest one would be judged against
        // activity that came after it (and would stretch windows back to its own time):
        // it is evaluated with no window or previous-transaction figures, and counts in
        // neither the windows nor the profile.
        let late = profile.lastSeen.map { tx.timestamp.microsecondsSinceEpoch < $0.microsecondsSinceEpoch &- state.allowedLatenessMicroseconds } ?? false
        record[.isLate] = .bool(late)
        if late {
            lateRecords.increment()
            record[.timeSinceLast] = .absent
            record[.distanceKmFromLast] = .absent
            record[.speedKmhFromLast] = .absent
            for i in record.windows.indices { record.windows[i] = .absent }
        } else {
            for i in partition.windows.indices { partition.windows[i].observe(&record, lists: lists) }
            shared.observe(&record, lists: lists)
        }
        ruleset.evaluate(record, lists: lists, into: &outcomes)

        var hits: [RuleHitRecord] = []
        var score = 0
        var severity: Severity?
        for rule in ruleset.rules {
            let outcome = outcomes.values[rule.index]
            if case .error(let error, _) = outcome {
                ruleErrors.increment()
                logger.debug("rule evaluation failed", metadata: ["rule": "\(rule.id)", "transaction": "\(tx.id)", "error": "\(error)"])
            }
            guard outcome.isHit else { continue }
            let onError: Bool
            if case .error = outcome { onError = true } else { onError = false }
            let reason = onError ? "evaluation failed and the rule fails closed" : ruleset.renderReason(of: rule, record: record, lists: lists)
            hits.append(RuleHitRecord(ruleID: rule.id, mode: rule.mode.rawValue, severity: rule.severity.rawValue,
                                      score: rule.score, reason: reason, onError: onError))
            if rule.mode == .alert {
                score += rule.score
                if severity.map({ Self.rank(rule.severity) > Self.rank($0) }) ?? true { severity = rule.severity }
            }
        }
        if !late { Enricher.update(&profile, with: tx, derived: derived) }
        partition.profiles[tx.accountID] = profile
        let alert = severity.map { AlertRecord(severity: $0.rawValue, totalScore: min(100, score)) }
        var detection = Detection(hits: hits, alert: alert, rulesetVersion: ruleset.version, profile: profile)
        detection.late = late
        DetectionWriter.encode(&detection, transactionID: tx.id)
        return detection
    }

    static func rank(_ severity: Severity) -> Int {
        switch severity {
        case .low: 0
        case .medium: 1
        case .high: 2
        case .critical: 3
        }
    }

    /// Remembers the last 100,000 ids of the partition (a bounded replay guard).
    private static func remember(_ id: String, in partition: inout PartitionState.State) {
        partition.recentOrder.append(id)
        if partition.recentOrder.count > 120_000 {
            for old in partition.recentOrder.prefix(20_000) { partition.recentIDs.remove(old) }
            partition.recentOrder.removeFirst(20_000)
        }
    }
}
