import RuleLanguage
import VigilCore

/// What a decision is taken against besides the partition's own memory: the ruleset,
/// the reference data and the windows shared across partitions (keyed by card, device,
/// ip, ...), all as they stand for one batch.
public struct DetectionContext: Sendable {
    /// The ruleset in force.
    public var ruleset: CompiledRuleset
    /// Windows keyed by something other than the account (locked inside, shared by workers).
    public var shared: SharedWindows
    /// Card, device and merchant histories (locked inside, shared by workers).
    public var history: SharedHistory
    /// Reference data in force.
    public var reference: ReferenceSnapshot
    /// The ruleset's lists resolved against `reference`.
    public var lists: ListSnapshot
    /// How far before its account's newest transaction a record may be dated and still
    /// count in windows and the profile, in microseconds.
    public var allowedLatenessMicroseconds: Int64

    /// Creates a context; `lists` are resolved from `reference` for `ruleset`.
    public init(
        ruleset: CompiledRuleset, shared: SharedWindows, history: SharedHistory, reference: ReferenceSnapshot,
        allowedLatenessMicroseconds: Int64
    ) {
        self.ruleset = ruleset
        self.shared = shared
        self.history = history
        self.reference = reference
        self.lists = reference.listSnapshot(for: ruleset)
        self.allowedLatenessMicroseconds = allowedLatenessMicroseconds
    }
}

/// Enriches and evaluates one transaction at a time: `detect` is a function of the
/// transaction, the partition's memory and the context, with no I/O, so it is tested
/// without PostgreSQL. The detector only holds reusable buffers (no allocation per call).
public struct Detector: Sendable {
    private var record = EvaluationRecord(windowCount: 0)
    private var outcomes = RuleOutcomes()

    /// A detector with empty buffers.
    public init() {}

    /// Decides `tx`: enriches it from the reference data and its account's profile,
    /// folds it into the windows (unless it is late), evaluates every rule, and updates
    /// the account's profile in `memory`. `late`, when given, is taken as the record's
    /// lateness instead of deciding it (a backtest replays what the live run decided).
    /// `explained: false` leaves out what only people read (each hit's rendered reason and
    /// the alert's evidence); a backtest counts hits and needs neither.
    public mutating func detect(
        _ tx: Transaction, memory: inout PartitionMemory, context: DetectionContext, late given: Bool? = nil, explained: Bool = true
    ) -> Decision {
        let ruleset = context.ruleset
        let lists = context.lists
        if record.windows.count != ruleset.windows.count { record = EvaluationRecord(for: ruleset) }
        // Taken out and put back: updated with no other copy of it alive in the table.
        var profile = memory.profiles.removeValue(forKey: tx.accountID) ?? AccountProfile()
        let derived = Enricher.fill(&record, transaction: tx, reference: context.reference, profile: profile)
        // Event time, not arrival, orders windows. A record dated further back than the
        // allowed lateness before its account's newest one would be judged against
        // activity that came after it (and would stretch windows back to its own time):
        // it is evaluated with no window or previous-transaction figures, and counts in
        // neither the windows nor the profile.
        let late =
            given
            ?? profile.lastSeen.map {
                tx.timestamp.microsecondsSinceEpoch < $0.microsecondsSinceEpoch &- context.allowedLatenessMicroseconds
            } ?? false
        record[.isLate] = .bool(late)
        // Never from a late record (nor a duplicate or rejected one: those never reach detect).
        let histories = Enricher.fillHistory(
            &record, transaction: tx, amountBase: derived.amountBase, history: context.history, update: !late,
            reads: ruleset.fieldsRead)
        if late {
            record[.timeSinceLast] = .absent
            record[.distanceKmFromLast] = .absent
            record[.speedKmhFromLast] = .absent
            for i in record.windows.indices { record.windows[i] = .absent }
        } else {
            for i in memory.windows.indices { memory.windows[i].observe(&record, lists: lists) }
            context.shared.observe(&record, lists: lists)
        }
        ruleset.evaluate(record, lists: lists, into: &outcomes)

        var hits: [RuleHitRecord] = []
        var errors: [(ruleID: String, error: EvaluationError)] = []
        // Only the rules whose outcome is not `.noHit`, in rule order: the rest did not hit.
        for index in outcomes.decided {
            let rule = ruleset.rules[index]
            let outcome = outcomes.values[index]
            let onError: Bool
            if case .error(let error, _) = outcome {
                errors.append((rule.id, error))
                onError = true
            } else {
                onError = false
            }
            guard outcome.isHit else { continue }
            let reason =
                onError
                ? "evaluation failed and the rule fails closed" : explained ? ruleset.renderReason(of: rule, record: record, lists: lists) : ""
            hits.append(
                RuleHitRecord(
                    ruleID: rule.id, mode: rule.mode, severity: rule.severity, score: rule.score,
                    reason: reason, onError: onError, action: rule.action))
        }
        if !late { Enricher.update(&profile, with: tx, derived: derived) }
        memory.profiles[tx.accountID] = profile
        var decision = Decision(
            hits: hits, alert: AlertRecord(raisedBy: hits), rulesetVersion: ruleset.version, profile: profile,
            late: late, evaluationErrors: errors, verdict: ruleset.policy.decide(hits, ruleset: ruleset.version))
        decision.entities = histories.updates
        if explained, decision.alert != nil {
            // The evidence shows every value, including the history fields no rule reads.
            Enricher.putHistory(&record, histories, at: tx.timestamp)
            decision.evidenceJSON = AlertEvidence.json(record: record, ruleset: ruleset, lists: lists, hits: hits)
        }
        return decision
    }
}
