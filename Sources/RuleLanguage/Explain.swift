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

    /// Evaluates every node of `rule`'s condition on `record` (slow path: each subtree is
    /// compiled and run on its own; `and`/`or` operands are all shown even when skipped).
    public static func trace(_ rule: CompiledRule, in ruleset: CompiledRuleset, record: EvaluationRecord, lists: ListSnapshot) -> [TraceLine] {
        var statics = [Set<String>?](repeating: nil, count: ruleset.lists.count)
        for list in ruleset.lists {
            if case .table = list.source { continue }
            statics[list.slot] = list.members
        }
        let compiler = Compiler(staticLists: statics)
        var lines: [TraceLine] = []
        func walk(_ t: TypedExpr, _ depth: Int) {
            if case .toDecimal(let inner) = t.kind { return walk(inner, depth) }
            lines.append(
                TraceLine(
                    depth: depth, text: text(t), type: t.type, value: compiler.compile(t)(record, lists),
                    isConstant: t.isConstant))
            if case .present = t.kind { return }
            for child in t.children { walk(child, depth + 1) }
        }
        walk(rule.condition, 0)
        return lines
    }
}
