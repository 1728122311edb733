import VigilCore

/// A rule that hit on a transaction, as stored in `rule_hits`.
public struct RuleHitRecord: Sendable, Hashable {
    public var ruleID: String
    /// `alert` or `shadow`.
    public var mode: String
    /// `low`, `medium`, `high` or `critical`.
    public var severity: String
    public var score: Int
    /// The rule's reason template, rendered with this transaction's values.
    public var reason: String
    /// The hit comes from an evaluation error under a fail-closed rule.
    public var onError: Bool

    /// Creates a hit.
    public init(ruleID: String, mode: String, severity: String, score: Int, reason: String, onError: Bool) {
        self.ruleID = ruleID
        self.mode = mode
        self.severity = severity
        self.score = score
        self.reason = reason
        self.onError = onError
    }
}

/// An alert raised by alert-mode hits, as stored in `alerts`.
public struct AlertRecord: Sendable, Hashable {
    /// The highest severity among the alert-mode hits.
    public var severity: String
    /// Sum of the alert-mode hits' scores, capped at 100.
    public var totalScore: Int

    /// Creates an alert.
    public init(severity: String, totalScore: Int) {
        self.severity = severity
        self.totalScore = totalScore
    }
}
