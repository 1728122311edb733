import VigilCore

/// What an evaluation error means for a rule.
public enum OnErrorPolicy: String, Sendable, Hashable, Codable, CaseIterable {
    /// Fail open (the default): the rule does not hit; the error is reported and counted.
    case skip
    /// Fail closed: the rule hits, and the hit records that it was raised by an error.
    case alert
}

/// A compiled rule's metadata and executable condition.
public struct CompiledRule: Sendable {
    /// The rule id, unique in the ruleset.
    public let id: String
    /// Its slot in `CompiledRuleset.rules` and in `RuleOutcomes`.
    public let index: Int
    /// The analyst's description.
    public let description: String
    public let severity: Severity
    /// 0...100.
    public let score: Int
    public let mode: RuleMode
    /// What a hit asks the decision to be (`review` when the rule names no action);
    /// only alert-mode rules decide (see `DecisionPolicy`).
    public let action: DecisionOutcome
    public let tags: [String]
    public let onError: OnErrorPolicy
    /// Fields that must be present for the rule to apply (`require`).
    public let requiredFields: [Field]
    /// Window slots that must have a value for the rule to apply (`require window.x`).
    public let requiredWindows: [Int]
    /// The checked condition, kept for `explain` and formatting.
    public let condition: TypedExpr
    /// The reason template, for `renderReason`.
    let reason: [ReasonPart]
    /// Raw reason text as written.
    public let reasonTemplate: String
    /// Fields the condition reads.
    public let fieldsRead: [Field]
    /// Windows the condition reads, by slot.
    public let windowsUsed: [Int]
    /// Lists the condition reads, by slot.
    public let listsUsed: [Int]
    /// Estimated cost in abstract units (field read 1, list lookup 4, regex 50).
    public let cost: Int
    /// Where the rule is declared.
    public let range: SourceRange
    let evaluate: Evaluator
}

/// One piece of a reason template.
enum ReasonPart: Sendable {
    case text(String)
    case value(Evaluator, ValueType)
}

/// Window aggregates.
public enum WindowAggregate: String, Sendable, Hashable, CaseIterable {
    case count, sum, avg, max
    case countDistinct = "count_distinct"
}

/// A window as the pipeline maintains it: per value of `key`, the aggregate of `value`
/// over the transactions of the last `duration` that pass `filter`.
public struct WindowSpec: Sendable {
    /// The window's name (`window.NAME` in rules).
    public let name: String
    /// Its slot in `EvaluationRecord.windows`.
    public let slot: Int
    /// The field whose value keys the window (card, account, device, ip...).
    public let key: Field
    public let aggregate: WindowAggregate
    /// The aggregated expression (nil for `count`).
    let value: Evaluator?
    /// Type of the aggregated expression (nil for `count`).
    public let valueType: ValueType?
    /// The window's result type.
    public let resultType: ValueType
    /// Length of the sliding window, microseconds.
    public let duration: Int64
    /// Only transactions for which this is true are counted (nil: all).
    let filter: Evaluator?
    /// Canonical text of the definition; a change in it means the state must be rebuilt.
    public let identity: String
    /// Where the window is declared.
    public let range: SourceRange
}

/// Where a list's members come from.
public enum ListSource: Sendable, Hashable {
    case inline
    /// A file beside the rules (path as resolved at load).
    case file(String)
    /// The `lists` table: contents arrive in the `ListSnapshot` given to `evaluate`.
    case table(String)

    /// Whether the members are known at load (inline and file lists), not read at run time.
    var isStatic: Bool {
        if case .table = self { return false }
        return true
    }
}

/// A named set of strings.
public struct ListSpec: Sendable {
    public let name: String
    /// Its slot in `ListSnapshot.sets`.
    public let slot: Int
    public let source: ListSource
    /// Members for inline and file lists (empty for table lists).
    public let members: Set<String>
    public let range: SourceRange
}
