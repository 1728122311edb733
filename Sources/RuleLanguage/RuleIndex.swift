/// The whole ruleset's conditions as one structure: per record it finds the few rules
/// whose outcome can be anything but `.noHit`, and only those are evaluated.
///
/// Built once at load (`RuleIndex+Build.swift`) from atoms the rules' conditions need
/// (`RuleAtoms`): equality tests dispatch through a hash from the key's value to the
/// rules it enables, thresholds on one key are sorted and decided with one binary
/// search, and a key shared by many rules is read once. A rule the index cannot rule
/// out is run by its own compiled closure, exactly as the straightforward evaluator
/// runs it, so hits, errors, fail-closed outcomes and `require` behave the same.
struct RuleIndex: Sendable {
    /// Index nodes; the root is `nodes[0]`.
    let nodes: [IndexNode]
    /// Rules by their `require` set: when one of the set is absent, every rule of the
    /// group is not applicable whatever the index says.
    let requireGroups: [RequireGroup]
    /// Each rule's condition, run once its `require` set is known to be present.
    let conditions: ContiguousArray<ConditionBox>
    /// How many distinct conditions are shared by several rules (memoized per record).
    let sharedConditions: Int
}

/// A rule's compiled condition and what an error means for it. Rules whose conditions
/// are the same expression share `memo`: the condition runs once per record for all.
struct ConditionBox: Sendable {
    let run: Evaluator
    let failClosed: Bool
    /// Slot in the per-record memo, or -1 when no other rule has this condition.
    let memo: Int32
}

/// A key expression compiled once, read at most once per visit of a node.
struct KeyReader: Sendable {
    let run: Evaluator
    /// The slot when the key is a plain field (its absence can exclude rules that need it).
    let field: Int?
}

/// Rules that share one `require` set.
struct RequireGroup: Sendable {
    let fields: [Int]
    let windows: [Int]
    let rules: [Int32]
}

/// One node of the index: rules always evaluated when the node is reached, hash
/// dispatches to child nodes, and sorted threshold groups.
struct IndexNode: Sendable {
    var always: [Int32] = []
    var dispatches: [Dispatch] = []
    var thresholds: [ThresholdGroup] = []
}

/// `key == v` / `key in [...]` for many rules: the key's value selects the one child
/// node whose rules it does not falsify.
struct Dispatch: Sendable {
    let key: KeyReader
    /// `Value.kindTag` of every bucket key; a value of another kind decides nothing.
    let kind: UInt8
    let buckets: [Value: Int]
    /// Rules below this dispatch that may be non-false when the key's field is absent
    /// (those that `require` it or test `present` of it are false then).
    let whenAbsent: [Int32]
    /// Every rule below this dispatch, for a key that is an error or of another kind.
    let whenUndecided: [Int32]
}

/// Thresholds on one key: `key >= m` rules sorted by `m`, `key <= m` rules sorted by `m`.
struct ThresholdGroup: Sendable {
    let key: KeyReader
    /// `Value.ordered` kind of the constants.
    let kind: UInt8
    let lowerBounds: [Int64]
    let lowerRules: [Int32]
    let upperBounds: [Int64]
    let upperRules: [Int32]
    let whenAbsent: [Int32]
    let whenUndecided: [Int32]
}

extension Value {
    /// Which case the value is, to tell a value that falsifies an equality test from one
    /// of another kind (which makes the test an error, not false).
    var kindTag: UInt8 {
        switch self {
        case .absent: 0
        case .bool: 1
        case .int: 2
        case .decimal: 3
        case .string: 4
        case .timestamp: 5
        case .duration: 6
        case .error: 7
        }
    }
}

/// One evaluation of the index on one record.
struct IndexWalk {
    let record: EvaluationRecord
    let lists: ListSnapshot
    let conditions: UnsafeBufferPointer<ConditionBox>
    let nodes: UnsafeBufferPointer<IndexNode>

    /// Runs `rule` unless it was already decided for this record. Its `require` set is
    /// present: rules whose set is not were claimed as not applicable before the walk.
    @inline(__always)
    func consider(_ rule: Int32, _ out: inout RuleOutcomes) {
        let i = Int(rule)
        guard out.claim(i) else { return }
        let c = conditions[i]
        let value: Value
        if c.memo < 0 {
            value = c.run(record, lists)
        } else if let known = out.memoized(Int(c.memo)) {
            value = known
        } else {
            value = c.run(record, lists)
            out.memoize(value, at: Int(c.memo))
        }
        let outcome = CompiledRuleset.conclude(value, c.failClosed)
        if case .noHit = outcome { return }
        out.record(outcome, at: i)
    }

    func consider(_ rules: [Int32], _ out: inout RuleOutcomes) {
        for r in rules { consider(r, &out) }
    }

    func visit(_ n: Int, _ out: inout RuleOutcomes) {
        let node = nodes[n]
        consider(node.always, &out)
        for d in node.dispatches {
            let v = d.key.run(record, lists)
            if v.kindTag == d.kind {
                if let child = d.buckets[v] { visit(child, &out) }
            } else {
                consider(absent(d.key) ? d.whenAbsent : d.whenUndecided, &out)
            }
        }
        for g in node.thresholds {
            guard let (kind, units) = g.key.run(record, lists).ordered, kind == g.kind else {
                consider(absent(g.key) ? g.whenAbsent : g.whenUndecided, &out)
                continue
            }
            // `key >= m` can hold for every m <= units: a prefix of the sorted bounds.
            let below = IndexWalk.partition(g.lowerBounds) { $0 > units }
            for k in 0..<below { consider(g.lowerRules[k], &out) }
            // `key <= m` can hold for every m >= units: a suffix.
            let from = IndexWalk.partition(g.upperBounds) { $0 >= units }
            for k in from..<g.upperRules.count { consider(g.upperRules[k], &out) }
        }
    }

    @inline(__always)
    func absent(_ key: KeyReader) -> Bool {
        guard let slot = key.field else { return false }
        if case .absent = record.fields[slot] { return true }
        return false
    }

    /// The first index whose element satisfies `isAbove` (elements are sorted, so the
    /// predicate is false then true).
    @inline(__always)
    static func partition(_ sorted: [Int64], _ isAbove: (Int64) -> Bool) -> Int {
        var lo = 0
        var hi = sorted.count
        while lo < hi {
            let mid = (lo + hi) / 2
            if isAbove(sorted[mid]) { hi = mid } else { lo = mid + 1 }
        }
        return lo
    }
}
