/// A comparison operator, resolved once at compile time.
enum CompareOp: Sendable {
    case eq, ne, lt, le, gt, ge

    init(_ op: String) {
        switch op {
        case "==": self = .eq
        case "!=": self = .ne
        case "<": self = .lt
        case "<=": self = .le
        case ">": self = .gt
        default: self = .ge
        }
    }

    @inline(__always)
    func test<T: Comparable>(_ a: T, _ b: T) -> Bool {
        switch self {
        case .eq: a == b
        case .ne: a != b
        case .lt: a < b
        case .le: a <= b
        case .gt: a > b
        case .ge: a >= b
        }
    }
}

/// An arithmetic operator, resolved once at compile time.
enum ArithOp: Sendable {
    case add, sub, mul, div, rem

    init(_ op: String) {
        switch op {
        case "+": self = .add
        case "-": self = .sub
        case "*": self = .mul
        case "/": self = .div
        default: self = .rem
        }
    }
}

/// Checked arithmetic on run-time values: overflow and division by zero become error
/// values, never traps.
enum Arithmetic {
    @inline(__always)
    static func compare(_ x: Value, _ y: Value, _ op: CompareOp) -> Value {
        switch (x, y) {
        case (.int(let a), .int(let b)): .bool(op.test(a, b))
        case (.decimal(let a), .decimal(let b)): .bool(op.test(a.units, b.units))
        case (.string(let a), .string(let b)): .bool(op.test(a, b))
        case (.bool(let a), .bool(let b)): .bool(op == .eq ? a == b : a != b)
        case (.timestamp(let a), .timestamp(let b)): .bool(op.test(a, b))
        case (.duration(let a), .duration(let b)): .bool(op.test(a, b))
        case (.error, _): x
        default: y.asError
        }
    }

    static func negate(_ x: Value) -> Value {
        switch x {
        case .int(let a): a == .min ? .error(.overflow) : .int(-a)
        case .decimal(let a): a.units == .min ? .error(.overflow) : .decimal(DecimalValue(units: -a.units))
        case .duration(let a): a == .min ? .error(.overflow) : .duration(-a)
        default: x.asError
        }
    }

    static func int(_ r: (partialValue: Int64, overflow: Bool)) -> Value {
        r.overflow ? .error(.overflow) : .int(r.partialValue)
    }

    static func dec(_ d: DecimalValue?) -> Value {
        d.map(Value.decimal) ?? .error(.overflow)
    }

    // swiftlint:disable:next cyclomatic_complexity
    static func apply(_ op: ArithOp, _ x: Value, _ y: Value) -> Value {
        switch (x, y) {
        case (.int(let a), .int(let b)):
            switch op {
            case .add: return int(a.addingReportingOverflow(b))
            case .sub: return int(a.subtractingReportingOverflow(b))
            case .mul: return int(a.multipliedReportingOverflow(by: b))
            case .div:
                guard b != 0 else { return .error(.divisionByZero) }
                return int(a.dividedReportingOverflow(by: b))
            case .rem:
                guard b != 0 else { return .error(.divisionByZero) }
                return int(a.remainderReportingOverflow(dividingBy: b))
            }
        case (.decimal(let a), .decimal(let b)):
            switch op {
            case .add: return dec(a.adding(b))
            case .sub: return dec(a.subtracting(b))
            case .mul: return dec(a.multiplied(by: b))
            case .div, .rem:
                guard b.units != 0 else { return .error(.divisionByZero) }
                return dec(a.divided(by: b))
            }
        case (.timestamp(let a), .timestamp(let b)):
            return durationResult(a.subtractingReportingOverflow(b))
        case (.timestamp(let a), .duration(let b)):
            let r = op == .add ? a.addingReportingOverflow(b) : a.subtractingReportingOverflow(b)
            return r.overflow ? .error(.overflow) : .timestamp(r.partialValue)
        case (.duration(let a), .duration(let b)):
            switch op {
            case .add: return durationResult(a.addingReportingOverflow(b))
            case .sub: return durationResult(a.subtractingReportingOverflow(b))
            default:
                guard b != 0 else { return .error(.divisionByZero) }
                return dec(DecimalValue(units: a).divided(by: DecimalValue(units: b)))
            }
        case (.duration(let a), .int(let b)):
            if op == .mul { return durationResult(a.multipliedReportingOverflow(by: b)) }
            guard b != 0 else { return .error(.divisionByZero) }
            return durationResult(a.dividedReportingOverflow(by: b))
        case (.error, _):
            return x
        default:
            return y.asError
        }
    }

    static func durationResult(_ r: (partialValue: Int64, overflow: Bool)) -> Value {
        r.overflow ? .error(.overflow) : .duration(r.partialValue)
    }
}

/// Built-in functions compiled to closures.
enum Builtins {
    static func compile(_ fn: Builtin, _ c: [Compiled]) -> Evaluator {
        guard let a = c.first?.run else { return { _, _ in .error(.typeMismatch) } }
        let b = c.count > 1 ? c[1].run : a
        switch fn {
        case .startsWith, .endsWith, .contains:
            return { r, l in
                guard case .string(let s) = a(r, l) else { return a(r, l).asError }
                guard case .string(let p) = b(r, l) else { return b(r, l).asError }
                switch fn {
                case .startsWith: return .bool(s.hasPrefix(p))
                case .endsWith: return .bool(s.hasSuffix(p))
                default: return .bool(p.isEmpty || s.contains(p))
                }
            }
        case .matches(let regex):
            return { r, l in
                guard case .string(let s) = a(r, l) else { return a(r, l).asError }
                return .bool(regex.matches(s))
            }
        case .lower:
            return { r, l in
                guard case .string(let s) = a(r, l) else { return a(r, l).asError }
                return .string(s.lowercased())
            }
        case .len:
            return { r, l in
                guard case .string(let s) = a(r, l) else { return a(r, l).asError }
                return .int(Int64(s.count))
            }
        case .abs:
            return { r, l in
                let v = a(r, l)
                switch v {
                case .int(let i) where i < 0: return Arithmetic.negate(v)
                case .decimal(let d) where d.units < 0: return Arithmetic.negate(v)
                case .duration(let i) where i < 0: return Arithmetic.negate(v)
                default: return v
                }
            }
        case .min, .max:
            let wantMin = if case .min = fn { true } else { false }
            return { r, l in
                let x = a(r, l)
                let y = b(r, l)
                guard case .bool(let less) = Arithmetic.compare(x, y, .lt) else { return x.isPresent ? y.asError : x }
                return (less == wantMin) ? x : y
            }
        case .hours, .minutes, .days:
            let unit: Int64 =
                switch fn {
                case .hours: 3_600_000_000
                case .minutes: 60_000_000
                default: 86_400_000_000
                }
            return { r, l in
                guard case .duration(let d) = a(r, l) else { return a(r, l).asError }
                return Arithmetic.dec(DecimalValue(units: d).divided(by: DecimalValue(units: unit)))
            }
        }
    }
}
