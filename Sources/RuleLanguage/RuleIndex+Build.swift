/// One way a rule can be non-false: the atoms of one alternative of its condition.
struct IndexEntry {
    let rule: Int32
    var atoms: [Atom]
    /// Fields the rule `require`s: absent, the rule is not applicable, never evaluated.
    let required: Set<Int>
}

extension RuleIndex {
    /// Nodes with no more entries than this are not split further.
    static let leafSize = 4

    /// Builds the index of `rules`; `statics` are the members of inline and file lists.
    init(rules: [CompiledRule], statics: [Set<String>?]) {
        var entries: [IndexEntry] = []
        var groups: [String: (fields: [Int], windows: [Int], rules: [Int32])] = [:]
        var groupOrder: [String] = []
        for rule in rules {
            let index = Int32(rule.index)
            let required = Set(rule.requiredFields.map(\.rawValue))
            for alternative in RuleAtoms.alternatives(rule.condition, statics) ?? [[]] {
                entries.append(IndexEntry(rule: index, atoms: alternative, required: required))
            }
            guard !rule.requiredFields.isEmpty || !rule.requiredWindows.isEmpty else { continue }
            let fields = rule.requiredFields.map(\.rawValue).sorted()
            let windows = rule.requiredWindows.sorted()
            let name = "\(fields)/\(windows)"
            if groups[name] == nil { groupOrder.append(name) }
            groups[name, default: (fields, windows, [])].rules.append(index)
        }
        var memos: [String: Int32] = [:]
        var counts: [String: Int] = [:]
        let texts = rules.map { Canonical.key($0.condition) }
        for text in texts { counts[text, default: 0] += 1 }
        var conditions = ContiguousArray<ConditionBox>()
        for (rule, text) in zip(rules, texts) {
            var memo: Int32 = -1
            if let n = counts[text], n > 1 {
                memo = memos[text] ?? Int32(memos.count)
                memos[text] = memo
            }
            conditions.append(ConditionBox(run: rule.evaluate, failClosed: rule.onError == .alert, memo: memo))
        }
        self.conditions = conditions
        sharedConditions = memos.count
        var builder = Builder(compiler: Compiler(staticLists: statics))
        _ = builder.node(entries)
        nodes = builder.nodes
        requireGroups = groupOrder.compactMap { name in
            groups[name].map { RequireGroup(fields: $0.fields, windows: $0.windows, rules: $0.rules) }
        }
    }

    /// Builds nodes depth first, reading each distinct key with one compiled closure.
    struct Builder {
        let compiler: Compiler
        var nodes: [IndexNode] = []
        var readers: [String: KeyReader] = [:]

        mutating func reader(_ atom: Atom) -> KeyReader {
            if let r = readers[atom.key] { return r }
            var field: Int?
            if case .field(let f) = atom.keyExpr.kind { field = f.rawValue }
            let r = KeyReader(run: compiler.compile(atom.keyExpr), field: field)
            readers[atom.key] = r
            return r
        }

        /// Builds the node for `entries` and returns its position.
        mutating func node(_ entries: [IndexEntry]) -> Int {
            let position = nodes.count
            nodes.append(IndexNode())
            var node = IndexNode()
            var remaining = entries
            while remaining.count > RuleIndex.leafSize, let key = bestEqualityKey(remaining) {
                let split = remaining.map { e in (e, e.atoms.firstIndex { $0.key == key && $0.dispatchKind != nil }) }
                remaining = split.filter { $0.1 == nil }.map(\.0)
                node.dispatches.append(dispatch(split.compactMap { e, i in i.map { (e, $0) } }))
            }
            thresholds(remaining, into: &node)
            nodes[position] = node
            return position
        }

        /// The equality key that leaves the fewest rules to look at, if it is worth a hash lookup.
        func bestEqualityKey(_ entries: [IndexEntry]) -> String? {
            var tally: [String: (count: Int, memberships: Int, values: Set<Value>)] = [:]
            for e in entries {
                var seen: Set<String> = []
                for atom in e.atoms where atom.dispatchKind != nil && seen.insert(atom.key).inserted {
                    guard case .oneOf(let values) = atom.test else { continue }
                    tally[atom.key, default: (0, 0, [])].count += 1
                    tally[atom.key]?.memberships += values.count
                    tally[atom.key]?.values.formUnion(values)
                }
            }
            var best: (key: String, cost: Double)?
            for (key, t) in tally where t.count >= 2 {
                let cost = Double(entries.count - t.count) + Double(t.memberships) / Double(max(1, t.values.count))
                if cost < (best?.cost ?? Double(entries.count) * 0.75) || (cost == best?.cost && key < (best?.key ?? "")) {
                    best = (key, cost)
                }
            }
            return best?.key
        }

        mutating func dispatch(_ tested: [(entry: IndexEntry, atom: Int)]) -> Dispatch {
            let first = tested[0].entry.atoms[tested[0].atom]
            var buckets: [Value: [IndexEntry]] = [:]
            for (entry, i) in tested {
                var rest = entry
                let atom = rest.atoms.remove(at: i)
                guard case .oneOf(let values) = atom.test else { continue }
                for v in values { buckets[v, default: []].append(rest) }
            }
            var children: [Value: Int] = [:]
            for (value, bucket) in buckets.sorted(by: { $0.key.description < $1.key.description }) {
                children[value] = node(bucket)
            }
            let key = reader(first)
            let absent = tested.filter { e, _ in !RuleIndex.falseWhenAbsent(e, key.field) }.map(\.entry)
            return Dispatch(
                key: key, kind: first.dispatchKind ?? 0, buckets: children, whenAbsent: RuleIndex.rules(absent),
                whenUndecided: RuleIndex.rules(tested.map(\.entry)))
        }

        /// Groups the entries left by thresholds on their most shared key; the rest are always run.
        mutating func thresholds(_ entries: [IndexEntry], into node: inout IndexNode) {
            var popularity: [String: Int] = [:]
            for e in entries {
                for key in Set(e.atoms.filter(\.isThreshold).map(\.key)) { popularity[key, default: 0] += 1 }
            }
            var groups: [String: [(IndexEntry, Atom)]] = [:]
            for e in entries {
                let pick = e.atoms.filter(\.isThreshold).max { a, b in
                    (popularity[a.key] ?? 0, b.key) < (popularity[b.key] ?? 0, a.key)
                }
                if let pick { groups[pick.key, default: []].append((e, pick)) } else { node.always.append(e.rule) }
            }
            for key in groups.keys.sorted() {
                guard let members = groups[key], let first = members.first?.1 else { continue }
                var lower: [(Int64, Int32)] = []
                var upper: [(Int64, Int32)] = []
                for (e, atom) in members {
                    switch atom.test {
                    case .atLeast(let m): lower.append((m, e.rule))
                    case .atMost(let m): upper.append((m, e.rule))
                    case .oneOf: node.always.append(e.rule)
                    }
                }
                lower.sort { $0.0 < $1.0 }
                upper.sort { $0.0 < $1.0 }
                let reader = reader(first)
                let entries = members.map(\.0)
                node.thresholds.append(
                    ThresholdGroup(
                        key: reader, kind: first.thresholdKind, lowerBounds: lower.map(\.0), lowerRules: lower.map(\.1),
                        upperBounds: upper.map(\.0), upperRules: upper.map(\.1),
                        whenAbsent: RuleIndex.rules(entries.filter { !RuleIndex.falseWhenAbsent($0, reader.field) }),
                        whenUndecided: RuleIndex.rules(entries)))
            }
        }
    }

    /// Whether the entry's rule is certainly not evaluated (not applicable, or false)
    /// when the field in `slot` is absent.
    static func falseWhenAbsent(_ e: IndexEntry, _ slot: Int?) -> Bool {
        guard let slot else { return false }
        return e.required.contains(slot) || e.atoms.contains { $0.presentField?.rawValue == slot }
    }

    /// The distinct rules of `entries`, in rule order.
    static func rules(_ entries: [IndexEntry]) -> [Int32] {
        Array(Set(entries.map(\.rule))).sorted()
    }
}

extension Atom {
    /// The kind of the values of an equality test, when they all have one (else it cannot dispatch).
    var dispatchKind: UInt8? {
        guard case .oneOf(let values) = test, let kind = values.first?.kindTag else { return nil }
        return values.allSatisfy { $0.kindTag == kind } ? kind : nil
    }

    var isThreshold: Bool {
        if case .oneOf = test { return false }
        return true
    }

    /// The `Value.ordered` kind of a threshold (encoded at the front of its key).
    var thresholdKind: UInt8 {
        UInt8(key.prefix { $0 != "#" }) ?? 0
    }
}
