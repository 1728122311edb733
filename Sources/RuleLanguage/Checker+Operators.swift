/// Type rules for comparisons, arithmetic, membership and built-in calls.
extension Checker {
    mutating func checkComparison(_ op: String, _ a: TypedExpr, _ b: TypedExpr, _ range: SourceRange) -> TypedExpr? {
        let ordered = op != "==" && op != "!="
        var lhs = a
        var rhs = b
        if a.type.isNumeric && b.type.isNumeric {
            guard let (x, y) = unifyNumeric(op, a, b, range) else { return nil }
            lhs = x
            rhs = y
        } else if a.type.base != b.type.base {
            return mismatch(
                range, "cannot compare `\(a.type.base.rawValue)` with `\(b.type.base.rawValue)`",
                help: hint(a.type.base, b.type.base))
        }
        switch lhs.type.base {
        case .stringSet:
            return mismatch(range, "cannot compare sets; use `in`")
        case .string where ordered, .bool where ordered:
            return mismatch(range, "`\(op)` does not apply to `\(lhs.type.base.rawValue)`", help: "use `==` or `!=`")
        default: break
        }
        checkEnumLiteral(lhs, rhs)
        checkEnumLiteral(rhs, lhs)
        return node(.compare(op, lhs, rhs), ValueType(.bool), range)
    }

    func hint(_ a: BaseType, _ b: BaseType) -> String? {
        let pair = Set([a, b])
        if pair == [.timestamp, .duration] { return "subtract timestamps to get a duration, e.g. `timestamp - profile.last_seen < 1h`" }
        if pair.contains(.string), pair.contains(.money) || pair.contains(.decimal) || pair.contains(.int) {
            return "numbers are written without quotes, e.g. `amount_base > 100.00`"
        }
        if pair.contains(.duration), pair.contains(.int) { return "write durations with a unit, e.g. `30d`" }
        return nil
    }

    /// For enumerated fields (`channel`, `account.risk_tier`...), a literal must be one of the values.
    mutating func checkEnumLiteral(_ field: TypedExpr, _ literal: TypedExpr) {
        guard case .field(let f) = field.kind, let allowed = f.info.allowedValues,
            case .constant(.string(let s)) = literal.kind, !allowed.contains(s)
        else { return }
        diagnostics.append(
            Diagnostic(
                .unknownEnumValue, literal.range,
                "`\(f.name)` is never \"\(s)\"; it is one of \(allowed.map { "\"\($0)\"" }.joined(separator: ", "))",
                help: Suggest.closest(to: s, in: allowed).map { "did you mean \"\($0)\"?" }))
    }

    mutating func checkArithmetic(_ op: String, _ a: TypedExpr, _ b: TypedExpr, _ range: SourceRange) -> TypedExpr? {
        let x = a.type.base
        let y = b.type.base
        func result(_ base: BaseType, _ l: TypedExpr, _ r: TypedExpr) -> TypedExpr {
            node(.arithmetic(op, l, r), ValueType(base), range)
        }
        switch (x, y, op) {
        case (.int, .int, "/"):
            return result(.decimal, promote(a, to: .decimal), promote(b, to: .decimal))
        case (.int, .int, _):
            return result(.int, a, b)
        case (.int, .decimal, "%"), (.decimal, .int, "%"), (.decimal, .decimal, "%"):
            return mismatch(range, "`%` needs whole numbers")
        case (.int, .decimal, _), (.decimal, .int, _), (.decimal, .decimal, _):
            return result(.decimal, promote(a, to: .decimal), promote(b, to: .decimal))
        case (.money, .money, "+"), (.money, .money, "-"):
            return result(.money, a, b)
        case (.money, .money, "/"):
            return result(.decimal, a, b)
        case (.money, .money, _):
            diagnostics.append(
                Diagnostic(
                    .invalidMoneyArithmetic, range, "cannot apply `\(op)` to two amounts of money",
                    help: "multiply money by a number (`3 * profile.avg_amount`), or divide two amounts for a ratio"))
            return nil
        case (.money, .int, "+"), (.money, .int, "-"), (.money, .decimal, "+"), (.money, .decimal, "-"),
            (.int, .money, "+"), (.int, .money, "-"), (.decimal, .money, "+"), (.decimal, .money, "-"):
            guard let (l, r) = unifyNumeric(op, a, b, range) else { return nil }
            return result(.money, l, r)
        case (.money, .int, "*"), (.money, .decimal, "*"), (.money, .int, "/"), (.money, .decimal, "/"):
            return result(.money, a, promote(b, to: .decimal))
        case (.int, .money, "*"), (.decimal, .money, "*"):
            return result(.money, promote(a, to: .decimal), b)
        case (.timestamp, .timestamp, "-"):
            return result(.duration, a, b)
        case (.timestamp, .duration, "+"), (.timestamp, .duration, "-"):
            return result(.timestamp, a, b)
        case (.duration, .duration, "+"), (.duration, .duration, "-"):
            return result(.duration, a, b)
        case (.duration, .duration, "/"):
            return result(.decimal, a, b)
        case (.duration, .int, "*"), (.duration, .int, "/"):
            return result(.duration, a, b)
        case (.int, .duration, "*"):
            return result(.duration, b, a)
        default:
            if x == .money || y == .money {
                diagnostics.append(
                    Diagnostic(
                        .invalidMoneyArithmetic, range,
                        "cannot apply `\(op)` to `\(a.type.base.rawValue)` and `\(b.type.base.rawValue)`"))
                return nil
            }
            return mismatch(
                range, "cannot apply `\(op)` to `\(a.type.base.rawValue)` and `\(b.type.base.rawValue)`",
                help: hint(x, y))
        }
    }

    mutating func checkMembership(_ a: Expr, _ b: Expr, _ negated: Bool, _ range: SourceRange, _ facts: Facts) -> TypedExpr? {
        guard let lhs = check(a, facts).flatMap({ requireValue($0) }) else { return nil }
        guard lhs.type.base == .string else {
            return mismatch(lhs.range, "`in` needs a string on the left, found `\(lhs.type)`")
        }
        switch b.kind {
        case .set(let items):
            if case .field(let f) = lhs.kind, let allowed = f.info.allowedValues {
                for item in items where !allowed.contains(item) {
                    diagnostics.append(
                        Diagnostic(
                            .unknownEnumValue, b.range, "`\(f.name)` is never \"\(item)\"",
                            help: Suggest.closest(to: item, in: allowed).map { "did you mean \"\($0)\"?" }))
                }
            }
            return node(.inSet(lhs, Set(items), negated: negated), ValueType(.bool), range)
        case .path(let name):
            guard let list = lists[name] else {
                var help = Suggest.closest(to: name, in: lists.keys).map { "did you mean `\($0)`?" }
                if help == nil && lists.isEmpty { help = "declare it with `list \(name) = [...]`" }
                diagnostics.append(Diagnostic(.unknownList, b.range, "unknown list `\(name)`", help: help))
                return nil
            }
            usedListNames.insert(name)
            usedListSlots.insert(list.slot)
            return node(.inList(lhs, slot: list.slot, name: name, negated: negated), ValueType(.bool), range)
        case .invalid:
            return nil
        default:
            return mismatch(b.range, "expected a list name or `[...]` after `in`")
        }
    }

    mutating func checkCall(_ name: String, _ args: [Expr], _ range: SourceRange, _ facts: Facts) -> TypedExpr? {
        func arity(_ n: Int) -> Bool {
            if args.count == n { return true }
            diagnostics.append(
                Diagnostic(
                    .wrongArgumentCount, range,
                    "`\(name)` takes \(n) argument\(n == 1 ? "" : "s"), found \(args.count)"))
            return false
        }
        switch name {
        case "present", "missing":
            guard arity(1) else { return nil }
            guard case .path(let p) = args[0].kind else {
                return mismatch(args[0].range, "`\(name)` takes a field or window name")
            }
            guard let t = resolvePath(p, args[0].range, facts) else { return nil }
            if !t.type.optional {
                diagnostics.append(
                    Diagnostic(
                        .redundantPresenceCheck, range,
                        "\(describeName(t)) is never missing here, so `\(name)` is always \(name == "present" ? "true" : "false")"))
            }
            return node(.present(t, negated: name == "missing"), ValueType(.bool), range)
        case "starts_with", "ends_with", "contains", "matches":
            guard arity(2) else { return nil }
            let s = check(args[0], facts).flatMap { requireValue($0) }
            let p = check(args[1], facts).flatMap { requireValue($0) }
            guard let s, let p else { return nil }
            for t in [s, p] where t.type.base != .string {
                return mismatch(t.range, "`\(name)` takes strings, found `\(t.type)`")
            }
            if name == "matches" {
                guard case .constant(.string(let pattern)) = p.kind else {
                    diagnostics.append(
                        Diagnostic(
                            .notConstant, p.range, "the pattern of `matches` must be a string written in the rule",
                            note: "patterns are compiled once when the rules load"))
                    return nil
                }
                do {
                    let regex = try CompiledRegex(pattern: pattern)
                    return node(.call(.matches(regex), [s]), ValueType(.bool), range)
                } catch {
                    diagnostics.append(Diagnostic(.invalidRegex, p.range, "invalid regular expression: \(error)"))
                    return nil
                }
            }
            let fn: Builtin = name == "starts_with" ? .startsWith : name == "ends_with" ? .endsWith : .contains
            return node(.call(fn, [s, p]), ValueType(.bool), range)
        case "lower", "len":
            guard arity(1), let s = check(args[0], facts).flatMap({ requireValue($0) }) else { return nil }
            guard s.type.base == .string else { return mismatch(s.range, "`\(name)` takes a string, found `\(s.type)`") }
            return node(.call(name == "lower" ? .lower : .len, [s]), ValueType(name == "lower" ? .string : .int), range)
        case "abs":
            guard arity(1), let x = check(args[0], facts).flatMap({ requireValue($0) }) else { return nil }
            guard x.type.isNumeric || x.type.base == .duration else { return mismatch(x.range, "`abs` takes a number or a duration") }
            return node(.call(.abs, [x]), x.type, range)
        case "min", "max":
            guard arity(2) else { return nil }
            let a = check(args[0], facts).flatMap { requireValue($0) }
            let b = check(args[1], facts).flatMap { requireValue($0) }
            guard var a, var b else { return nil }
            if a.type.isNumeric && b.type.isNumeric {
                guard let (x, y) = unifyNumeric("compare", a, b, range) else { return nil }
                a = x
                b = y
            }
            guard a.type.base == b.type.base, a.type.isNumeric || a.type.base == .duration || a.type.base == .timestamp else {
                return mismatch(range, "`\(name)` takes two numbers, durations or timestamps of one type")
            }
            return node(.call(name == "min" ? .min : .max, [a, b]), a.type, range)
        case "hours", "minutes", "days":
            guard arity(1), let d = check(args[0], facts).flatMap({ requireValue($0) }) else { return nil }
            guard d.type.base == .duration else { return mismatch(d.range, "`\(name)` takes a duration, found `\(d.type)`") }
            return node(.call(name == "hours" ? .hours : name == "minutes" ? .minutes : .days, [d]), ValueType(.decimal), range)
        default:
            diagnostics.append(
                Diagnostic(
                    .unknownFunction, range, "unknown function `\(name)`",
                    help: Suggest.closest(to: name, in: Builtin.names).map { "did you mean `\($0)`?" }
                        ?? "functions: \(Builtin.names.joined(separator: ", "))"))
            return nil
        }
    }
}
