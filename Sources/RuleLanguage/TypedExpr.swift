/// A checked expression: names resolved to slots, every node typed and numbered.
///
/// Node ids are unique within one rule (or window) so `explain` can show each node's value.
public struct TypedExpr: Sendable {
    /// The operation at this node.
    public indirect enum Kind: Sendable {
        case constant(Value)
        case field(Field)
        case window(slot: Int, name: String)
        case not(TypedExpr)
        case negate(TypedExpr)
        case and(TypedExpr, TypedExpr)
        case or(TypedExpr, TypedExpr)
        case compare(String, TypedExpr, TypedExpr)
        case arithmetic(String, TypedExpr, TypedExpr)
        /// `a ?? b`: `a` unless absent.
        case coalesce(TypedExpr, TypedExpr)
        /// Promotes an int to a decimal for mixed arithmetic.
        case toDecimal(TypedExpr)
        case inList(TypedExpr, slot: Int, name: String, negated: Bool)
        case inSet(TypedExpr, Set<String>, negated: Bool)
        case present(TypedExpr, negated: Bool)
        case call(Builtin, [TypedExpr])
    }

    /// The operation.
    public var kind: Kind
    /// The static type.
    public var type: ValueType
    /// Source span.
    public var range: SourceRange
    /// Node id, unique in its rule.
    public var id: Int

    /// Direct children in evaluation order.
    public var children: [TypedExpr] {
        switch kind {
        case .constant, .field, .window: []
        case .not(let a), .negate(let a), .toDecimal(let a), .present(let a, _): [a]
        case .inList(let a, _, _, _), .inSet(let a, _, _): [a]
        case .and(let a, let b), .or(let a, let b), .compare(_, let a, let b),
            .arithmetic(_, let a, let b), .coalesce(let a, let b):
            [a, b]
        case .call(_, let args): args
        }
    }

    /// Whether the value is known at load time: built from literals only, no field,
    /// window or list read (such subtrees are folded by the compiler).
    public var isConstant: Bool {
        switch kind {
        case .constant: true
        case .field, .window, .inList: false
        default: children.allSatisfy(\.isConstant)
        }
    }
}

/// Built-in functions. Regexes are compiled when the ruleset loads.
public enum Builtin: Sendable {
    case startsWith, endsWith, contains, lower, len, abs, min, max, hours, minutes, days
    case matches(CompiledRegex)

    /// The name rules use.
    public var name: String {
        switch self {
        case .startsWith: "starts_with"
        case .endsWith: "ends_with"
        case .contains: "contains"
        case .lower: "lower"
        case .len: "len"
        case .abs: "abs"
        case .min: "min"
        case .max: "max"
        case .hours: "hours"
        case .minutes: "minutes"
        case .days: "days"
        case .matches: "matches"
        }
    }

    /// Every function name, for suggestions.
    static let names = [
        "present", "missing", "starts_with", "ends_with", "contains", "matches",
        "lower", "len", "abs", "min", "max", "hours", "minutes", "days",
    ]
}

/// A regular expression compiled once at load time.
///
/// `Regex` holds no mutable state after construction, so sharing one across threads is
/// safe; the type is not declared `Sendable` by the standard library, hence the wrapper.
public final class CompiledRegex: @unchecked Sendable {
    /// The pattern as written.
    public let pattern: String
    let regex: Regex<AnyRegexOutput>

    init(pattern: String) throws {
        self.pattern = pattern
        self.regex = try Regex(pattern)
    }

    /// Whether the pattern matches anywhere in `text` (search, like RE2's partial match).
    func matches(_ text: String) -> Bool {
        (try? regex.firstMatch(in: text)) != nil
    }
}
