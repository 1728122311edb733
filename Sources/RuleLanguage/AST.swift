/// The syntax tree of a rules file, as parsed, before names and types are checked.
public struct Expr: Sendable, Hashable {
    /// The expression's shape.
    public indirect enum Kind: Sendable, Hashable {
        case integer(Int64)
        case decimal(DecimalValue)
        case string(String)
        case duration(Int64)
        case bool(Bool)
        /// A dotted name: a field (`account.age`), a window (`window.cnp_10m`) or a list.
        case path(String)
        /// An inline set of strings, `["KP", "IR"]`.
        case set([String])
        /// `not x`, `-x`.
        case unary(String, Expr)
        /// `and or == != < <= > >= + - * / % ??`.
        case binary(String, Expr, Expr)
        /// `x in list`, `x not in ["a"]`.
        case membership(Expr, Expr, negated: Bool)
        /// `name(args)`.
        case call(String, [Expr])
        /// Stands in for an expression that did not parse (already diagnosed).
        case invalid
    }

    /// The shape.
    public var kind: Kind
    /// Where it is in the file.
    public var range: SourceRange

    /// Creates an expression.
    public init(_ kind: Kind, _ range: SourceRange) {
        self.kind = kind
        self.range = range
    }
}

/// Where a list's members come from.
public enum ListSourceSyntax: Sendable, Hashable {
    /// `["a", "b"]` in the rules file.
    case inline([String])
    /// `file "blocked.txt"`, one member per line, relative to the rules file.
    case file(String)
    /// `table` or `table "name"`: rows of the `lists` table, read by the pipeline at run time.
    case table(String)
}

/// `list NAME = ...`.
public struct ListDecl: Sendable, Hashable {
    public var name: String
    public var nameRange: SourceRange
    public var source: ListSourceSyntax
    public var range: SourceRange
}

/// `window NAME = AGG [EXPR] by FIELD over DURATION [where EXPR]`.
public struct WindowDecl: Sendable, Hashable {
    public var name: String
    public var nameRange: SourceRange
    public var aggregate: String
    public var aggregateRange: SourceRange
    public var value: Expr?
    public var key: String
    public var keyRange: SourceRange
    public var duration: Int64
    public var durationRange: SourceRange
    public var filter: Expr?
    public var range: SourceRange
}

/// One clause in a rule body.
public enum ClauseKind: Sendable, Hashable {
    case description(String)
    case when(Expr)
    case severity(String)
    case score(Int64)
    /// The template text with escapes resolved, and its position (for interpolation errors).
    case reason(String)
    case mode(String)
    case tags([String])
    case onError(String)
    /// `action allow|review|block`: what the rule's hit asks the decision to be.
    case action(String)
    /// Fields (or windows) the rule needs; absent ones make it not applicable.
    case require([Expr])
}

/// A clause with its keyword and position.
public struct Clause: Sendable, Hashable {
    public var keyword: String
    public var kind: ClauseKind
    public var range: SourceRange
    /// Where the clause's value starts (for template column arithmetic).
    public var valueRange: SourceRange
}

/// `rule ID { clauses }`.
public struct RuleDecl: Sendable, Hashable {
    public var id: String
    public var idRange: SourceRange
    public var clauses: [Clause]
    public var range: SourceRange
}

/// One line of a `policy` block: `review at score >= 50`.
public struct PolicyThreshold: Sendable, Hashable {
    /// The outcome word as written (`review` or `block` are valid).
    public var outcome: String
    public var outcomeRange: SourceRange
    /// The total score from which it applies.
    public var score: Int64
    public var scoreRange: SourceRange
    public var range: SourceRange
}

/// `policy { review at score >= N  block at score >= M }`: the ruleset's decision policy.
public struct PolicyDecl: Sendable, Hashable {
    public var thresholds: [PolicyThreshold]
    /// The `policy` keyword (where duplicate-policy errors point).
    public var keywordRange: SourceRange
    public var range: SourceRange
}

/// A top-level declaration.
public enum Declaration: Sendable, Hashable {
    case list(ListDecl)
    case window(WindowDecl)
    case rule(RuleDecl)
    case policy(PolicyDecl)

    /// Where the declaration is.
    public var range: SourceRange {
        switch self {
        case .list(let d): d.range
        case .window(let d): d.range
        case .rule(let d): d.range
        case .policy(let d): d.range
        }
    }
}

/// A parsed file.
public struct ParsedFile: Sendable {
    public var source: SourceFile
    public var declarations: [Declaration]
    public var comments: [Comment]
    public var diagnostics: [Diagnostic]
}
