import Detection
import RuleLanguage
import VigilCore

/// One ruleset replaying the stored transactions with state of its own (profiles,
/// account windows, shared windows), exactly as a live pipeline with that ruleset would
/// have built it.
struct BacktestLane {
    let ruleset: CompiledRuleset
    private var memory: PartitionMemory
    private let shared: SharedWindows
    /// Card, device and merchant histories, built from the replay like the live ones.
    private let history = SharedHistory()
    private var detector = Detector()
    private(set) var context: DetectionContext

    init(ruleset: CompiledRuleset, reference: ReferenceSnapshot, allowedLatenessMicroseconds: Int64) {
        self.ruleset = ruleset
        memory = PartitionMemory(specs: ruleset.windows.filter { $0.key == .accountID })
        shared = SharedWindows(specs: ruleset.windows.filter { $0.key != .accountID })
        context = DetectionContext(
            ruleset: ruleset, shared: shared, history: history, reference: reference, allowedLatenessMicroseconds: allowedLatenessMicroseconds)
    }

    /// Installs reference data that changed (lists are resolved again).
    mutating func use(_ reference: ReferenceSnapshot) {
        context = DetectionContext(
            ruleset: ruleset, shared: shared, history: history, reference: reference,
            allowedLatenessMicroseconds: context.allowedLatenessMicroseconds)
    }

    /// Counts one reversal of a transaction with these entities, as the live writer did after its commit.
    func countReversal(_ keys: [EntityKey]) {
        for key in keys { history.addReversal(key) }
    }

    /// Decides one stored transaction, with the lateness the live run decided.
    mutating func decide(_ stored: StoredTransaction) -> Decision {
        detector.detect(stored.transaction, memory: &memory, context: context, late: stored.late)
    }
}

/// What one side of the comparison decided for a transaction: its hits (rule ids, by
/// mode) and whether it alerted.
struct LaneOutcome: Sendable {
    var hits: [(rule: String, mode: RuleMode)]
    var alerted: Bool

    init(_ decision: Decision) {
        hits = decision.hits.map { ($0.ruleID, $0.mode) }
        alerted = decision.alert != nil
    }

    init(hits: [(rule: String, mode: RuleMode)], alerted: Bool) {
        self.hits = hits
        self.alerted = alerted
    }
}
