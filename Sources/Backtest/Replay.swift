import Detection
import PostgresStore
import RuleLanguage
import VigilCore

/// The hits and alerts the live pipeline stored for a period, by transaction id.
struct StoredOutcomes: Sendable {
    var hits: [String: [(rule: String, mode: RuleMode)]] = [:]
    var alerted: Set<String> = []

    /// Investigators' dispositions of the period's transactions (`fraud`, `legitimate`,
    /// `inconclusive`), from the `dispositions` view.
    static func labels(from db: PostgresConnection, from: Timestamp, to: Timestamp) async throws -> [String: String] {
        var labels: [String: String] = [:]
        for row in try await db.query(
            """
            SELECT d.transaction_id, d.disposition FROM dispositions d JOIN transactions t ON t.id = d.transaction_id
            WHERE t.event_time >= \(from) AND t.event_time < \(to)
            """)
        {
            labels[try row.decode(0)] = try row.decode(1)
        }
        return labels
    }

    static func load(from db: PostgresConnection, from: Timestamp, to: Timestamp) async throws -> StoredOutcomes {
        var outcomes = StoredOutcomes()
        for row in try await db.query(
            """
            SELECT h.transaction_id, h.rule_id, h.mode FROM rule_hits h JOIN transactions t ON t.id = h.transaction_id
            WHERE t.event_time >= \(from) AND t.event_time < \(to)
            """)
        {
            let mode = RuleMode(rawValue: try row.decode(2)) ?? .alert
            outcomes.hits[try row.decode(0), default: []].append((try row.decode(1), mode))
        }
        for row in try await db.query(
            """
            SELECT a.transaction_id FROM alerts a JOIN transactions t ON t.id = a.transaction_id
            WHERE t.event_time >= \(from) AND t.event_time < \(to)
            """)
        {
            outcomes.alerted.insert(try row.decode(0))
        }
        return outcomes
    }

    func outcome(of id: String) -> LaneOutcome {
        LaneOutcome(hits: hits[id] ?? [], alerted: alerted.contains(id))
    }
}

/// The replay in progress: the candidate's lane, the baseline (a lane of its own, or what
/// the live run stored) and the tallies so far. Fed one stored transaction at a time, in
/// the order the live pipeline decided them.
struct Replay: Sendable {
    private var candidate: BacktestLane
    /// The baseline ruleset's lane until `takeBaselineLane()` hands it to a thread of its own.
    private var baselineLane: BacktestLane?
    private let baselineRules: [CompiledRule]?
    private let stored: StoredOutcomes?
    private let from: Timestamp
    private let to: Timestamp
    private let keepHits: Bool
    private var figures: [String: BacktestReport.RuleFigures] = [:]
    private var accounts: [String: (added: Int, removed: Int)] = [:]
    /// Dispositions by transaction id.
    var labels: [String: String] = [:]
    var report: BacktestReport
    /// Rows consumed (warm-up included).
    private(set) var seen = 0

    init(
        candidate ruleset: CompiledRuleset, baseline: BacktestBaseline, stored: StoredOutcomes?, timeline: ReferenceTimeline,
        reversals: [DetectionStore.CountedReversal] = [], options: BacktestOptions, from: Timestamp, to: Timestamp
    ) {
        self.to = to
        let lateness = options.allowedLateness.components
        let latenessMicros = max(0, lateness.seconds &* 1_000_000 &+ lateness.attoseconds / 1_000_000_000_000)
        candidate = BacktestLane(ruleset: ruleset, timeline: timeline, reversals: reversals, allowedLatenessMicroseconds: latenessMicros)
        if case .ruleset(let other) = baseline {
            baselineLane = BacktestLane(ruleset: other, timeline: timeline, reversals: reversals, allowedLatenessMicroseconds: latenessMicros)
            baselineRules = other.rules
        } else {
            baselineRules = nil
        }
        self.stored = stored
        self.from = from
        keepHits = options.keepHits
        report = BacktestReport(
            candidateVersion: ruleset.version, candidateRules: ruleset.rules.count,
            baseline: baselineLane?.ruleset.version ?? "live", from: "", to: "")
        report.referenceRecordedSince = timeline.recordedSince.map(RFC3339.format)
        if keepHits { report.hits = [] }
        for rule in ruleset.rules {
            figures[rule.id] = .init(rule: rule.id, mode: rule.mode, inCandidate: true, inBaseline: baselineRules == nil)
        }
        for rule in baselineRules ?? [] {
            figures[rule.id, default: .init(rule: rule.id, mode: rule.mode, inCandidate: false, inBaseline: true)].inBaseline = true
        }
    }

    /// The baseline ruleset's lane, to run on another thread; `consume(_:baseline:)` is then
    /// given its outcome for each row.
    mutating func takeBaselineLane() -> BacktestLane? {
        defer { baselineLane = nil }
        return baselineLane
    }

    /// Replays one stored transaction; `baseline` is the baseline lane's outcome for it when
    /// that lane runs elsewhere.
    mutating func consume(_ row: StoredTransaction, baseline: LaneOutcome? = nil) {
        seen += 1
        let mine = candidate.decide(row)
        let theirs =
            baseline ?? baselineLane?.decide(row) ?? stored?.outcome(of: row.transaction.id)
            ?? LaneOutcome(hits: [], alerted: false)
        guard row.transaction.timestamp >= from else {
            report.warmupTransactions += 1
            return
        }
        // Dated after the period but decided before its last transaction: it shaped the
        // state the period's transactions saw, and is not counted either.
        guard row.transaction.timestamp < to else {
            report.laterTransactions += 1
            return
        }
        report.transactions += 1
        tally(row.transaction, mine: mine, theirs: theirs)
    }

    private mutating func tally(_ tx: Transaction, mine: LaneOutcome, theirs: LaneOutcome) {
        let label = labels.isEmpty ? nil : labels[tx.id]
        if let label { tallyLabel(label, mine: mine, theirs: theirs) }
        for hit in mine.hits {
            figures[hit.rule, default: .init(rule: hit.rule, mode: hit.mode, inCandidate: true, inBaseline: false)].hits += 1
            if label == "fraud" { figures[hit.rule]?.fraudHits += 1 }
            if label == "legitimate" { figures[hit.rule]?.legitimateHits += 1 }
            if !theirs.hits.contains(where: { $0.rule == hit.rule }) { figures[hit.rule]?.added += 1 }
            if keepHits { report.hits?.append(.init(transaction: tx.id, rule: hit.rule)) }
        }
        for hit in theirs.hits {
            figures[hit.rule, default: .init(rule: hit.rule, mode: hit.mode, inCandidate: false, inBaseline: true)].baselineHits += 1
            if !mine.hits.contains(where: { $0.rule == hit.rule }) { figures[hit.rule]?.removed += 1 }
        }
        if mine.alerted { report.alerts += 1 }
        if theirs.alerted { report.baselineAlerts += 1 }
        if mine.alerted != theirs.alerted {
            var entry = accounts[tx.accountID] ?? (0, 0)
            if mine.alerted {
                report.alertsAdded += 1
                entry.added += 1
            } else {
                report.alertsRemoved += 1
                entry.removed += 1
            }
            accounts[tx.accountID] = entry
        }
    }

    /// Counts one disposed transaction against both sides.
    private mutating func tallyLabel(_ label: String, mine: LaneOutcome, theirs: LaneOutcome) {
        switch label {
        case "fraud":
            report.labeledFraud += 1
            if mine.alerted { report.candidateLabels.fraudCaught += 1 } else { report.candidateLabels.fraudMissed += 1 }
            if theirs.alerted { report.baselineLabels.fraudCaught += 1 } else { report.baselineLabels.fraudMissed += 1 }
        case "legitimate":
            report.labeledLegitimate += 1
            if mine.alerted { report.candidateLabels.falsePositivesRaised += 1 }
            if theirs.alerted { report.baselineLabels.falsePositivesRaised += 1 }
        default: break
        }
    }

    /// The report, with rules in order and the most affected accounts.
    func finish(seconds: Double) -> BacktestReport {
        var result = report
        result.referenceChanges = candidate.referenceChanges
        let order = candidate.ruleset.rules.map(\.id) + (baselineRules?.map(\.id) ?? [])
        var listed: Set<String> = []
        for id in order where listed.insert(id).inserted {
            if let f = figures[id] { result.rules.append(f) }
        }
        for id in figures.keys.sorted() where listed.insert(id).inserted {
            if let f = figures[id] { result.rules.append(f) }
        }
        result.accountsMostAffected = accounts.map { .init(account: $0.key, alertsAdded: $0.value.added, alertsRemoved: $0.value.removed) }
            .sorted { ($0.alertsAdded + $0.alertsRemoved, $1.account) > ($1.alertsAdded + $1.alertsRemoved, $0.account) }
            .prefix(10).map { $0 }
        result.seconds = seconds
        result.transactionsPerSecond = seconds > 0 ? Double(seen) / seconds : 0
        return result
    }
}
