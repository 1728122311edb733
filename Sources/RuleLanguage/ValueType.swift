import VigilCore

/// The static types of the rules language.
public enum BaseType: String, Sendable, Hashable, Codable {
    case bool
    case int
    /// An exact decimal number (ratios, distances, speeds, coordinates).
    case decimal
    /// An amount of money as an exact decimal; money × money is a type error.
    case money
    case string
    /// An instant (UTC, microseconds).
    case timestamp
    /// A length of time, written `90s`, `10m`, `24h`, `30d`, `2w`.
    case duration
    /// A named set of strings (a `list`) or an inline set `["a", "b"]`.
    case stringSet = "set<string>"
}

/// A type with its optionality: an optional value may be absent at evaluation time, and
/// the checker refuses to use it until the rule says what absence means.
public struct ValueType: Sendable, Hashable, CustomStringConvertible {
    /// The underlying type.
    public var base: BaseType
    /// Whether the value may be absent.
    public var optional: Bool

    /// Creates a type.
    public init(_ base: BaseType, optional: Bool = false) {
        self.base = base
        self.optional = optional
    }

    /// The same type, not optional.
    public var unwrapped: ValueType { ValueType(base) }

    /// Whether values of this type are numbers (int, decimal or money).
    public var isNumeric: Bool { base == .int || base == .decimal || base == .money }

    public var description: String { base.rawValue + (optional ? "?" : "") }
}

/// Why a rule could not be evaluated on a record; carried as a value, never thrown.
public enum EvaluationError: Sendable, Hashable, CustomStringConvertible {
    /// A field the rule reads was absent (a non-optional field the pipeline did not fill).
    case absentField(Field)
    /// A window value was absent.
    case absentWindow(slot: Int)
    /// Arithmetic overflowed the exact decimal range.
    case overflow
    /// Division by zero.
    case divisionByZero
    /// A `table` list had no contents in the snapshot given to `evaluate`.
    case listUnavailable(slot: Int)
    /// A value of an unexpected kind reached an operator (a pipeline filling bug).
    case typeMismatch

    public var description: String {
        switch self {
        case .absentField(let f): "field `\(f.name)` is absent"
        case .absentWindow(let s): "window #\(s) has no value"
        case .overflow: "arithmetic overflow"
        case .divisionByZero: "division by zero"
        case .listUnavailable(let s): "list #\(s) is not loaded"
        case .typeMismatch: "value of unexpected type (record filled incorrectly)"
        }
    }
}

/// A run-time value. Money is carried as `.decimal`; the checker knows which is which.
public enum Value: Sendable, Hashable, CustomStringConvertible {
    case absent
    case bool(Bool)
    case int(Int64)
    case decimal(DecimalValue)
    case string(String)
    /// Microseconds since the Unix epoch.
    case timestamp(Int64)
    /// Microseconds.
    case duration(Int64)
    case error(EvaluationError)

    /// Money from VigilCore, converted exactly (exponent ≤ 6).
    public static func money(_ m: Money) -> Value {
        guard let d = DecimalValue(minorUnits: m.minorUnits, exponent: m.currency.exponent) else { return .error(.overflow) }
        return .decimal(d)
    }

    /// Whether the value is present (neither absent nor an error).
    public var isPresent: Bool {
        switch self {
        case .absent, .error: false
        default: true
        }
    }

    public var description: String {
        switch self {
        case .absent: "missing"
        case .bool(let b): b ? "true" : "false"
        case .int(let i): String(i)
        case .decimal(let d): d.description
        case .string(let s): "\"\(s)\""
        case .timestamp(let t): RFC3339.format(Timestamp(microsecondsSinceEpoch: t))
        case .duration(let d): Value.formatDuration(d)
        case .error(let e): "error(\(e))"
        }
    }

    /// Formats microseconds with the largest exact unit, e.g. `10m`, `36h`, `1500ms`.
    public static func formatDuration(_ micros: Int64) -> String {
        let units: [(Int64, String)] = [
            (604_800_000_000, "w"), (86_400_000_000, "d"), (3_600_000_000, "h"),
            (60_000_000, "m"), (1_000_000, "s"), (1_000, "ms"),
        ]
        // `24h` reads better than `1d` for the common "last day" windows.
        for (size, name) in units where micros != 0 && micros % size == 0 && !(name == "d" && micros == size) {
            return "\(micros / size)\(name)"
        }
        return micros == 0 ? "0s" : "\(micros / 1_000)ms"
    }
}
