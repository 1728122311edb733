/// Expression checking: name resolution, absence narrowing and type rules.
extension Checker {
    /// Names proven present on the path that reaches an operand: `present(x) and <here>`,
    /// `missing(x) or <here>`, and every `require`d name.
    typealias Facts = Set<String>

    /// Names that are present whenever `e` is true.
    static func factsWhenTrue(_ e: Expr) -> Facts {
        switch e.kind {
        case .call("present", let args) where args.count == 1:
            if case .path(let p) = args[0].kind { return [p] }
        case .unary("not", let inner):
            return factsWhenFalse(inner)
        case .binary("and", let a, let b):
            return factsWhenTrue(a).union(factsWhenTrue(b))
        case .binary("or", let a, let b):
            return factsWhenTrue(a).intersection(factsWhenTrue(b))
        default: break
        }
        return []
    }

    /// Names that are present whenever `e` is false.
    static func factsWhenFalse(_ e: Expr) -> Facts {
        switch e.kind {
        case .call("missing", let args) where args.count == 1:
            if case .path(let p) = args[0].kind { return [p] }
        case .unary("not", let inner):
            return factsWhenTrue(inner)
        case .binary("or", let a, let b):
            return factsWhenFalse(a).union(factsWhenFalse(b))
        case .binary("and", let a, let b):
            return factsWhenFalse(a).intersection(factsWhenFalse(b))
        default: break
        }
        return []
    }

    mutating func node(_ kind: TypedExpr.Kind, _ type: ValueType, _ range: SourceRange) -> TypedExpr {
        nextID += 1
        return TypedExpr(kind: kind, type: type, range: range, id: nextID)
    }

    /// Reports an optional operand that the rule has not said how to handle.
    mutating func requireValue(_ t: TypedExpr) -> TypedExpr? {
        guard t.type.optional else { return t }
        let name = describeName(t)
        diagnostics.append(
            Diagnostic(
                .unhandledOptional, t.range,
                "\(name) may be missing, and this use does not say what a missing value means",
                help:
                    "check it first (`present(\(name.strippingTicks)) and ...`), give a default (`\(name.strippingTicks) ?? ...`), or add `require \(name.strippingTicks)` to skip the rule when it is missing"
            ))
        return nil
    }

    func describeName(_ t: TypedExpr) -> String {
        switch t.kind {
        case .field(let f): "`\(f.name)`"
        case .window(_, let name): "`window.\(name)`"
        default: "this value"
        }
    }

    /// Resolves a dotted name to a field or window reference, with narrowing applied.
    mutating func resolvePath(_ name: String, _ range: SourceRange, _ facts: Facts) -> TypedExpr? {
        if name.hasPrefix("window.") {
            let windowName = String(name.dropFirst("window.".count))
            guard allowWindows else {
                diagnostics.append(Diagnostic(.invalidWindow, range, "a window's value or filter cannot read another window"))
                return nil
            }
            if brokenWindows.contains(windowName) {
                usedWindowNames.insert(windowName)
                return nil
            }
            guard let window = windows[windowName] else {
                diagnostics.append(
                    Diagnostic(
                        .unknownWindow, range, "unknown window `\(windowName)`",
                        help: Suggest.closest(to: windowName, in: windows.keys).map { "did you mean `window.\($0)`?" }))
                return nil
            }
            usedWindowNames.insert(windowName)
            usedWindowSlots.insert(window.slot)
            var type = window.type
            if facts.contains(name) || (facts.contains(window.keyName) && !window.emptyPossible) { type = type.unwrapped }
            return node(.window(slot: window.slot, name: windowName), type, range)
        }
        if let field = Field.named(name) {
            usedFields.insert(field)
            fieldsReadAnywhere.insert(field)
            var type = field.type
            if facts.contains(name) { type = type.unwrapped }
            return node(.field(field), type, range)
        }
        if lists[name] != nil {
            diagnostics.append(
                Diagnostic(
                    .typeMismatch, range, "list `\(name)` can only be used after `in`",
                    help: "write `<field> in \(name)`"))
            return nil
        }
        let candidates = Field.allCases.map(\.name) + windows.keys.map { "window." + $0 }
        var help = Suggest.closest(to: name, in: candidates).map { "did you mean `\($0)`?" }
        if help == nil, windows[name] != nil { help = "windows are read as `window.\(name)`" }
        diagnostics.append(Diagnostic(.unknownField, range, "unknown field `\(name)`", help: help))
        return nil
    }

    /// Checks an expression in a context where absence has been handled for `facts`.
    mutating func check(_ e: Expr, _ facts: Facts) -> TypedExpr? {
        switch e.kind {
        case .invalid:
            return nil
        case .integer(let v):
            return node(.constant(.int(v)), ValueType(.int), e.range)
        case .decimal(let v):
            return node(.constant(.decimal(v)), ValueType(.decimal), e.range)
        case .string(let s):
            return node(.constant(.string(s)), ValueType(.string), e.range)
        case .duration(let d):
            return node(.constant(.duration(d)), ValueType(.duration), e.range)
        case .bool(let b):
            return node(.constant(.bool(b)), ValueType(.bool), e.range)
        case .set:
            diagnostics.append(Diagnostic(.typeMismatch, e.range, "a set can only be used after `in`"))
            return nil
        case .path(let name):
            return resolvePath(name, e.range, facts)
        case .unary("not", let inner):
            guard let t = check(inner, facts).flatMap({ requireValue($0) }) else { return nil }
            guard t.type.base == .bool else { return mismatch(e.range, "`not` needs a bool, found `\(t.type)`") }
            return node(.not(t), ValueType(.bool), e.range)
        case .unary(_, let inner):
            guard let t = check(inner, facts).flatMap({ requireValue($0) }) else { return nil }
            guard t.type.isNumeric || t.type.base == .duration else { return mismatch(e.range, "cannot negate `\(t.type)`") }
            return node(.negate(t), t.type, e.range)
        case .binary(let op, let a, let b) where op == "and" || op == "or":
            let lhs = check(a, facts).flatMap { requireValue($0) }
            let rhsFacts = facts.union(op == "and" ? Checker.factsWhenTrue(a) : Checker.factsWhenFalse(a))
            let rhs = check(b, rhsFacts).flatMap { requireValue($0) }
            guard let lhs, let rhs else { return nil }
            for side in [lhs, rhs] where side.type.base != .bool {
                return mismatch(side.range, "`\(op)` needs bool operands, found `\(side.type)`")
            }
            return node(op == "and" ? .and(lhs, rhs) : .or(lhs, rhs), ValueType(.bool), e.range)
        case .binary("??", let a, let b):
            return checkCoalesce(a, b, e.range, facts)
        case .binary(let op, let a, let b):
            let lhs = check(a, facts).flatMap { requireValue($0) }
            let rhs = check(b, facts).flatMap { requireValue($0) }
            guard let lhs, let rhs else { return nil }
            if ["==", "!=", "<", "<=", ">", ">="].contains(op) {
                return checkComparison(op, lhs, rhs, e.range)
            }
            return checkArithmetic(op, lhs, rhs, e.range)
        case .membership(let a, let b, let negated):
            return checkMembership(a, b, negated, e.range, facts)
        case .call(let name, let args):
            return checkCall(name, args, e.range, facts)
        }
    }

    mutating func mismatch(_ range: SourceRange, _ message: String, help: String? = nil) -> TypedExpr? {
        diagnostics.append(Diagnostic(.typeMismatch, range, message, help: help))
        return nil
    }

    mutating func checkCoalesce(_ a: Expr, _ b: Expr, _ range: SourceRange, _ facts: Facts) -> TypedExpr? {
        let lhs = check(a, facts)
        let rhs = check(b, facts).flatMap { requireValue($0) }
        guard let lhs, var rhs else { return nil }
        if !lhs.type.optional {
            diagnostics.append(
                Diagnostic(
                    .redundantPresenceCheck, lhs.range,
                    "\(describeName(lhs)) is never missing here, so the default after `??` is never used"))
        }
        if lhs.type.base == .money, rhs.isConstant, rhs.type.isNumeric {
            rhs = promote(rhs, to: .money)
        } else if lhs.type.base == .decimal, rhs.type.base == .int {
            rhs = promote(rhs, to: .decimal)
        }
        guard lhs.type.base == rhs.type.base else {
            return mismatch(rhs.range, "the default is `\(rhs.type)` but \(describeName(lhs)) is `\(lhs.type.base.rawValue)`")
        }
        return node(.coalesce(lhs, rhs), lhs.type.unwrapped, range)
    }

    /// Converts an int to a decimal, or retypes a numeric constant as money.
    mutating func promote(_ t: TypedExpr, to base: BaseType) -> TypedExpr {
        if t.type.base == base { return t }
        if t.type.base == .int {
            if case .constant(.int(let v)) = t.kind, let d = DecimalValue(integer: v) {
                return node(.constant(.decimal(d)), ValueType(base), t.range)
            }
            return node(.toDecimal(t), ValueType(base), t.range)
        }
        var copy = t
        copy.type = ValueType(base)
        return copy
    }

    /// Brings two numeric operands to one type: int+int stays int; int mixes to decimal;
    /// money with a numeric constant stays money. Returns nil (diagnosed) otherwise.
    mutating func unifyNumeric(_ op: String, _ a: TypedExpr, _ b: TypedExpr, _ range: SourceRange) -> (TypedExpr, TypedExpr)? {
        let x = a.type.base
        let y = b.type.base
        if x == y { return (a, b) }
        if x == .money || y == .money {
            let other = x == .money ? b : a
            if other.isConstant {
                return (promote(a, to: .money), promote(b, to: .money))
            }
            diagnostics.append(
                Diagnostic(
                    .invalidMoneyArithmetic, range,
                    "cannot \(op == "+" || op == "-" ? "add" : "compare") money and `\(other.type)`",
                    help: "compare money with money (e.g. `profile.avg_amount`) or with a number written in the rule"))
            return nil
        }
        return (promote(a, to: .decimal), promote(b, to: .decimal))
    }
}

extension String {
    var strippingTicks: String { filter { $0 != "`" } }
}
