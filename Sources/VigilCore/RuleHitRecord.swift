/// A rule that hit on a transaction, as stored in `rule_hits` and sent in alerts.
public struct RuleHitRecord: Sendable, Hashable {
    public var ruleID: String
    public var mode: RuleMode
    public var severity: Severity
    public var score: Int
    /// The rule's reason template, rendered with this transaction's values.
    public var reason: String
    /// The hit comes from an evaluation error under a fail-closed rule.
    public var onError: Bool
    /// The rule's `action` (`review` when it names none).
    public var action: DecisionOutcome

    /// Creates a hit.
    public init(
        ruleID: String, mode: RuleMode, severity: Severity, score: Int, reason: String, onError: Bool, action: DecisionOutcome = .review
    ) {
        self.action = action
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
    public var severity: Severity
    /// Sum of the alert-mode hits' scores, capped at 100.
    public var totalScore: Int
    /// The alert-mode hits that raised it.
    public var hits: [RuleHitRecord]

    /// Creates an alert.
    public init(severity: Severity, totalScore: Int, hits: [RuleHitRecord]) {
        self.severity = severity
        self.totalScore = totalScore
        self.hits = hits
    }

    /// The alert raised by `hits` (alert-mode ones count; shadow ones and allow rules,
    /// which are exceptions rather than suspicions, are ignored), or nil when none is
    /// left: the highest severity, the scores summed and capped at 100.
    public init?(raisedBy hits: [RuleHitRecord]) {
        let alerting = hits.filter { $0.mode == .alert && $0.action != .allow }
        guard let severity = alerting.map(\.severity).max() else { return nil }
        self.init(severity: severity, totalScore: min(100, alerting.reduce(0) { $0 + $1.score }), hits: alerting)
    }

    /// The `alerts.rules` column: the alert-mode hits as a JSON array.
    public var rulesJSON: String {
        "["
            + hits.map { hit in
                "{\"rule\":\(JSONText.quoted(hit.ruleID)),\"severity\":\(JSONText.quoted(hit.severity.rawValue)),\"score\":\(hit.score),"
                    + "\"reason\":\(JSONText.quoted(hit.reason)),\"on_error\":\(hit.onError)}"
            }.joined(separator: ",") + "]"
    }
}
