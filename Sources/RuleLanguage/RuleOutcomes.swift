/// Reusable per-worker buffer of outcomes, indexed by `CompiledRule.index`.
///
/// Most rules do not hit most records, so the buffer remembers which outcomes are not
/// `.noHit` (`decided`): the next evaluation clears only those, and callers walk only
/// those, so the cost of a record does not grow with the number of rules it leaves alone.
public struct RuleOutcomes: Sendable {
    /// One outcome per rule.
    public internal(set) var values: ContiguousArray<RuleOutcome> = []
    /// Indices, ascending, of the rules whose outcome is not `.noHit` (hits, errors,
    /// not applicable); every other rule's outcome is `.noHit`.
    public private(set) var decided: [Int] = []
    /// Per rule, the evaluation that last claimed it (so a rule the index reaches twice
    /// is run once); compared with `generation`.
    private var stamps: ContiguousArray<UInt32> = []
    private var generation: UInt32 = 0
    /// Values of conditions shared by several rules, valid when their stamp is current.
    private var memoValues: ContiguousArray<Value> = []
    private var memoStamps: ContiguousArray<UInt32> = []

    /// An empty buffer; `evaluate` sizes it.
    public init() {}

    /// Starts an evaluation: every outcome `.noHit`, no rule claimed.
    mutating func begin(count: Int, memos: Int = 0) {
        if values.count != count || memoValues.count != memos {
            values = ContiguousArray(repeating: .noHit, count: count)
            stamps = ContiguousArray(repeating: 0, count: count)
            memoValues = ContiguousArray(repeating: .absent, count: memos)
            memoStamps = ContiguousArray(repeating: 0, count: memos)
            generation = 0
            decided.removeAll()
        } else {
            for i in decided { values[i] = .noHit }
        }
        decided.removeAll(keepingCapacity: true)
        generation &+= 1
        if generation == 0 {
            // Wrapped: stamps from 2^32 evaluations ago would look current.
            for i in stamps.indices { stamps[i] = 0 }
            for i in memoStamps.indices { memoStamps[i] = 0 }
            generation = 1
        }
    }

    /// Marks `rule` as evaluated for this record; false if it already was.
    @inline(__always)
    mutating func claim(_ rule: Int) -> Bool {
        if stamps[rule] == generation { return false }
        stamps[rule] = generation
        return true
    }

    /// The value of shared condition `memo` if already computed for this record.
    @inline(__always)
    func memoized(_ memo: Int) -> Value? {
        memoStamps[memo] == generation ? memoValues[memo] : nil
    }

    @inline(__always)
    mutating func memoize(_ value: Value, at memo: Int) {
        memoValues[memo] = value
        memoStamps[memo] = generation
    }

    /// Stores an outcome other than `.noHit`.
    @inline(__always)
    mutating func record(_ outcome: RuleOutcome, at rule: Int) {
        values[rule] = outcome
        decided.append(rule)
    }

    /// Ends an evaluation: `decided` in rule order, as callers report hits.
    mutating func finish() {
        // Usually already in order (one dispatch path); sorting a sorted array is skipped.
        for k in decided.indices.dropFirst() where decided[k - 1] > decided[k] {
            decided.sort()
            return
        }
    }

    /// Indices of rules that hit (including fail-closed errors).
    public var hitIndices: [Int] { decided.filter { values[$0].isHit } }
}
