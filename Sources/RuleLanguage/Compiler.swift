/// A compiled expression: reads a record (and the table-list snapshot), returns a value.
/// Errors are values, so a failing sub-expression never throws or traps.
typealias Evaluator = @Sendable (EvaluationRecord, ListSnapshot) -> Value

/// A compiled node. Closures kept in a struct field stay at their natural abstraction;
/// kept directly in an array (a generic container) they would be called through
/// reabstraction thunks, which cost ~15% of evaluation time.
struct Compiled: Sendable {
    let run: Evaluator
    /// The value when the subtree is constant (folded).
    let constant: Value?
}

/// Compiles checked expressions into closure trees: one closure per node, field and window
/// reads by slot, inline lists as hashed sets, constants folded, `and`/`or` operands run
/// cheapest first (safe because errors are absorbed whichever side decides).
struct Compiler {
    /// Members of inline and file lists by slot; `nil` for table lists (read from the snapshot).
    let staticLists: [Set<String>?]

    /// Compiles `t`, folding it to a constant when nothing in it depends on the record.
    func compile(_ t: TypedExpr) -> Evaluator {
        compileFolding(t).run
    }

    /// The closure and, when the whole subtree is constant, its value.
    func compileFolding(_ t: TypedExpr) -> Compiled {
        if case .constant(let v) = t.kind { return Compiled(run: { _, _ in v }, constant: v) }
        return node(t, t.children.map(compileFolding))
    }

    /// Node `t` compiled from its children's compiled forms (in `t.children`'s order), folded
    /// when they are all constant: what `compileFolding` does at each node.
    func node(_ t: TypedExpr, _ children: [Compiled]) -> Compiled {
        if case .constant(let v) = t.kind { return Compiled(run: { _, _ in v }, constant: v) }
        let evaluator = build(t, children)
        var foldable = !children.isEmpty && children.allSatisfy { $0.constant != nil }
        if case .inList(_, let slot, _, _) = t.kind, staticLists[safe: slot] == nil { foldable = false }
        if foldable {
            let value = evaluator(EvaluationRecord(windowCount: 0), .empty)
            return Compiled(run: { _, _ in value }, constant: value)
        }
        return Compiled(run: evaluator, constant: nil)
    }

    /// Reads a field or window without turning absence into an error (for `present`, `??`).
    func raw(_ t: TypedExpr, _ fallback: @escaping Evaluator) -> Evaluator {
        switch t.kind {
        case .field(let f):
            let slot = f.rawValue
            return { r, _ in r.fields[slot] }
        case .window(let slot, _):
            return { r, _ in r.window(slot) }
        default:
            return fallback
        }
    }

    // swiftlint:disable:next cyclomatic_complexity
    func build(_ t: TypedExpr, _ c: [Compiled]) -> Evaluator {
        switch t.kind {
        case .constant(let v):
            return { _, _ in v }
        case .field(let f):
            let slot = f.rawValue
            return { r, _ in
                let v = r.fields[slot]
                if case .absent = v { return .error(.absentField(f)) }
                return v
            }
        case .window(let slot, _):
            return { r, _ in
                let v = r.window(slot)
                if case .absent = v { return .error(.absentWindow(slot: slot)) }
                return v
            }
        case .not:
            let a = c[0].run
            return { r, l in
                let v = a(r, l)
                if case .bool(let b) = v { return .bool(!b) }
                return v.asError
            }
        case .negate:
            let a = c[0].run
            return { r, l in Arithmetic.negate(a(r, l)) }
        case .and(let x, let y):
            let (a, b) = Compiler.cheapestFirst(c[0].run, x, c[1].run, y)
            return { r, l in
                let u = a(r, l)
                if case .bool(false) = u { return u }
                let v = b(r, l)
                if case .bool(false) = v { return v }
                if case .bool = u { return v.asBoolOrError }
                return u.asError
            }
        case .or(let x, let y):
            let (a, b) = Compiler.cheapestFirst(c[0].run, x, c[1].run, y)
            return { r, l in
                let u = a(r, l)
                if case .bool(true) = u { return u }
                let v = b(r, l)
                if case .bool(true) = v { return v }
                if case .bool = u { return v.asBoolOrError }
                return u.asError
            }
        case .compare(let op, _, let rhs):
            let a = c[0].run
            let b = c[1].run
            let test = CompareOp(op)
            if case .constant(let k) = rhs.kind {
                // The most common shape, `field OP literal`, reads the slot directly.
                if case .compare(_, let lhs, _) = t.kind, case .field(let f) = lhs.kind {
                    let slot = f.rawValue
                    return { r, _ in
                        let v = r.fields[slot]
                        if case .absent = v { return .error(.absentField(f)) }
                        return Arithmetic.compare(v, k, test)
                    }
                }
                return { r, l in Arithmetic.compare(a(r, l), k, test) }
            }
            return { r, l in Arithmetic.compare(a(r, l), b(r, l), test) }
        case .arithmetic(let op, _, _):
            let a = c[0].run
            let b = c[1].run
            let o = ArithOp(op)
            return { r, l in Arithmetic.apply(o, a(r, l), b(r, l)) }
        case .coalesce(let x, _):
            let a = raw(x, c[0].run)
            let b = c[1].run
            return { r, l in
                let v = a(r, l)
                if case .absent = v { return b(r, l) }
                return v
            }
        case .toDecimal:
            let a = c[0].run
            return { r, l in
                switch a(r, l) {
                case .int(let i): DecimalValue(integer: i).map(Value.decimal) ?? .error(.overflow)
                case let other: other
                }
            }
        case .inList(_, let slot, _, let negated):
            let a = c[0].run
            if let members = staticLists[safe: slot] ?? nil {
                return { r, l in Compiler.member(a(r, l), members, negated) }
            }
            return { r, l in
                guard let members = l.set(slot) else { return .error(.listUnavailable(slot: slot)) }
                return Compiler.member(a(r, l), members, negated)
            }
        case .inSet(_, let members, let negated):
            let a = c[0].run
            return { r, l in Compiler.member(a(r, l), members, negated) }
        case .present(let x, let negated):
            let a = raw(x, c[0].run)
            return { r, l in
                switch a(r, l) {
                case .absent: .bool(negated)
                case .error(let e): .error(e)
                default: .bool(!negated)
                }
            }
        case .call(let fn, _):
            return Builtins.compile(fn, c)
        }
    }

    @inline(__always)
    static func member(_ v: Value, _ set: Set<String>, _ negated: Bool) -> Value {
        guard case .string(let s) = v else { return v.asError }
        return .bool(set.contains(s) != negated)
    }

    static func cheapestFirst(_ a: @escaping Evaluator, _ x: TypedExpr, _ b: @escaping Evaluator, _ y: TypedExpr) -> (Evaluator, Evaluator) {
        Cost.of(y) < Cost.of(x) ? (b, a) : (a, b)
    }
}

extension Value {
    /// An error value stays as is; anything else reaching a typed operator is a filling bug.
    var asError: Value {
        if case .error = self { return self }
        return .error(.typeMismatch)
    }

    var asBoolOrError: Value {
        switch self {
        case .bool, .error: self
        default: .error(.typeMismatch)
        }
    }
}

extension Array {
    subscript(safe index: Int) -> Element? {
        index >= 0 && index < count ? self[index] : nil
    }
}

/// Static cost estimate used to order `and`/`or` operands and shown by `explain`.
public enum Cost {
    /// Abstract units: constant 0, field or window read 1, operator 1, list lookup 4,
    /// string helper 8, `lower` 20 (allocates), regex 50.
    public static func of(_ t: TypedExpr) -> Int {
        let own: Int =
            switch t.kind {
            case .constant: 0
            case .field, .window, .not, .negate, .and, .or, .compare, .arithmetic, .coalesce, .toDecimal, .present: 1
            case .inList, .inSet: 4
            case .call(.matches, _): 50
            case .call(.lower, _): 20
            case .call(.startsWith, _), .call(.endsWith, _), .call(.contains, _), .call(.len, _): 8
            case .call: 2
            }
        return t.children.reduce(own) { $0 + of($1) }
    }
}
