import Synchronization

/// What `vigil rules explain` prints: a rule as the compiler understood it and, for a
/// given record, the value of every sub-expression.
public enum Explain {
    /// The condition with every operation parenthesised and names resolved.
    public static func text(_ t: TypedExpr) -> String {
        switch t.kind {
        case .constant(let v): return literal(v, t.type)
        case .field(let f): return f.name
        case .window(_, let name): return "window.\(name)"
        case .not(let a): return "(not \(text(a)))"
        case .negate(let a): return "(-\(text(a)))"
        case .and(let a, let b): return "(\(text(a)) and \(text(b)))"
        case .or(let a, let b): return "(\(text(a)) or \(text(b)))"
        case .compare(let op, let a, let b), .arithmetic(let op, let a, let b): return "(\(text(a)) \(op) \(text(b)))"
        case .coalesce(let a, let b): return "(\(text(a)) ?? \(text(b)))"
        case .toDecimal(let a): return text(a)
        case .inList(let a, _, let name, let negated): return "(\(text(a))\(negated ? " not" : "") in \(name))"
        case .inSet(let a, let set, let negated):
            return "(\(text(a))\(negated ? " not" : "") in [\(set.sorted().map { "\"\($0)\"" }.joined(separator: ", "))])"
        case .present(let a, let negated): return "\(negated ? "missing" : "present")(\(text(a)))"
        case .call(let fn, let args):
            var parts = args.map(text)
            if case .matches(let r) = fn { parts.append(RuleFormatter.quote(r.pattern)) }
            return "\(fn.name)(\(parts.joined(separator: ", ")))"
        }
    }

    static func literal(_ v: Value, _ type: ValueType) -> String {
        switch v {
        case .decimal(let d): d.formatted(fractionDigits: max(2, d.description.split(separator: ".").last.map { $0.count } ?? 0))
        case .string(let s): RuleFormatter.quote(s)
        default: v.description
        }
    }

    /// One line of a trace: a node, its depth in the tree, its type and value.
    public struct TraceLine: Sendable {
        public var depth: Int
        public var text: String
        public var type: ValueType
        public var value: Value
        /// Whether the node is a literal (its value is its text).
        public var isConstant: Bool
    }

    /// Evaluates every node of `rule` (one of `ruleset`'s rules) on `record` (each node's value on its own:
    /// `and`/`or` operands are all shown even when skipped). The nodes' texts and compiled
    /// forms are worked out once a rule, on its first trace, and kept with the ruleset: an
    /// alert's evidence traces its rules on the pipeline's path.
    public static func trace(_ rule: CompiledRule, in ruleset: CompiledRuleset, record: EvaluationRecord, lists: ListSnapshot) -> [TraceLine] {
        // Kept for the ruleset's own rules, which is what callers pass (`ruleset.rule(id:)`).
        let own = ruleset.rules.indices.contains(rule.index) && ruleset.rules[rule.index].id == rule.id
        let planned = own ? ruleset.tracePlans.plan(for: rule) { plan(rule, in: ruleset) } : plan(rule, in: ruleset)
        return planned.map { line in
            TraceLine(depth: line.depth, text: line.text, type: line.type, value: line.node.run(record, lists), isConstant: line.isConstant)
        }
    }

    /// A node of a rule's trace before it is run on a record.
    struct PlannedLine: Sendable {
        var depth: Int
        var text: String
        var type: ValueType
        var node: Compiled
        var isConstant: Bool
    }

    /// The trace's nodes in order (depth first; a decimal conversion shows as its operand,
    /// a `present`/`missing` test without its operand), compiled bottom-up in one pass.
    static func plan(_ rule: CompiledRule, in ruleset: CompiledRuleset) -> [PlannedLine] {
        var statics = [Set<String>?](repeating: nil, count: ruleset.lists.count)
        for list in ruleset.lists {
            if case .table = list.source { continue }
            statics[list.slot] = list.members
        }
        let compiler = Compiler(staticLists: statics)
        var lines: [PlannedLine?] = []
        func walk(_ t: TypedExpr, _ depth: Int) -> Compiled {
            if case .toDecimal(let inner) = t.kind { return compiler.node(t, [walk(inner, depth)]) }
            let slot = lines.count
            lines.append(nil)
            let children: [Compiled]
            if case .present = t.kind {
                children = t.children.map(compiler.compileFolding)
            } else {
                children = t.children.map { walk($0, depth + 1) }
            }
            let node = compiler.node(t, children)
            lines[slot] = PlannedLine(depth: depth, text: text(t), type: t.type, node: node, isConstant: t.isConstant)
            return node
        }
        _ = walk(rule.condition, 0)
        return lines.compactMap { $0 }
    }
}

/// Each rule's trace plan, made on first use and kept for the ruleset's life.
final class TracePlans: Sendable {
    private let plans = Mutex<[String: [Explain.PlannedLine]]>([:])

    func plan(for rule: CompiledRule, make: () -> [Explain.PlannedLine]) -> [Explain.PlannedLine] {
        if let known = plans.withLock({ $0[rule.id] }) { return known }
        let made = make()
        plans.withLock { $0[rule.id] = made }
        return made
    }
}
