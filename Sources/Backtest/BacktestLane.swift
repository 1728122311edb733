import Detection
import RuleLanguage
import VigilCore

/// One ruleset replaying the stored transactions with state of its own (profiles,
/// account windows, shared windows, reference data as it changed), exactly as a live
/// pipeline with that ruleset would have built it. Lanes share nothing, so the candidate
/// and a baseline ruleset replay on threads of their own.
struct BacktestLane: Sendable {
    let ruleset: CompiledRuleset
    private var memory: PartitionMemory
    private let shared: SharedWindows
    /// Card, device and merchant histories, built from the replay like the live ones.
    private let history = SharedHistory()
    private var detector = Detector()
    private var context: DetectionContext
    /// Reference data as of the last row, the changes not yet applied and the next one.
    private var reference: ReferenceSnapshot
    private let changes: [ReferenceChange]
    private var nextChange = 0
    private var zones = ZoneCache()
    /// Counted reversals, oldest first, and the next one not yet applied.
    private let reversals: [DetectionStore.CountedReversal]
    private var nextReversal = 0
    private var rows = 0
    /// Reference changes applied after the first row (those before it are the initial state).
    private(set) var referenceChanges = 0

    init(
        ruleset: CompiledRuleset, timeline: ReferenceTimeline, reversals: [DetectionStore.CountedReversal],
        allowedLatenessMicroseconds: Int64
    ) {
        self.ruleset = ruleset
        memory = PartitionMemory(specs: ruleset.windows.filter { $0.key == .accountID })
        shared = SharedWindows(specs: ruleset.windows.filter { $0.key != .accountID })
        reference = timeline.initial
        changes = timeline.changes
        self.reversals = reversals
        context = DetectionContext(
            ruleset: ruleset, shared: shared, history: history, reference: timeline.initial,
            allowedLatenessMicroseconds: allowedLatenessMicroseconds)
    }

    /// Decides one stored transaction with the reference data and reversals the live run
    /// had when it arrived, and the lateness the live run decided.
    mutating func decide(_ stored: StoredTransaction) -> LaneOutcome {
        advanceReference(to: stored.receivedAt)
        advanceReversals(to: stored.receivedAt)
        rows += 1
        return LaneOutcome(detector.detect(stored.transaction, memory: &memory, context: context, late: stored.late, explained: false))
    }

    /// Applies the reference changes committed before `arrival` (what the live run had
    /// loaded when the transaction came in); lists are resolved again.
    private mutating func advanceReference(to arrival: Timestamp) {
        var changed = false
        while nextChange < changes.count, changes[nextChange].changedAt <= arrival {
            let change = changes[nextChange]
            reference.apply(change.table, remove: change.before, insert: change.after, zones: &zones)
            nextChange += 1
            changed = true
            if rows > 0 { referenceChanges += 1 }
        }
        guard changed else { return }
        context = DetectionContext(
            ruleset: ruleset, shared: shared, history: history, reference: reference,
            allowedLatenessMicroseconds: context.allowedLatenessMicroseconds)
    }

    /// Counts the reversals received before `arrival` in the lane's histories, as the live
    /// writer did after its commit (forward only, like reference data).
    private mutating func advanceReversals(to arrival: Timestamp) {
        while nextReversal < reversals.count, reversals[nextReversal].receivedAt < arrival {
            for key in reversals[nextReversal].keys { history.addReversal(key) }
            nextReversal += 1
        }
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
