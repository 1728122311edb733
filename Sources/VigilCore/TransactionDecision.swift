/// The decision on one transaction as the sender gets it in the ack and as it is stored
/// with the transaction (a replay is answered with the stored one).
public struct TransactionDecision: Sendable, Hashable {
    /// Allow, review or block.
    public var outcome: DecisionOutcome
    /// The total score of the alert-mode rules that hit (0...100).
    public var score: Int
    /// The alert-mode rules that hit, allow rules included, in the ruleset's order.
    public var rules: [String]
    /// The ruleset version that decided (empty for a fallback taken before detection).
    public var ruleset: String
    /// Set when the outcome is the operator's fallback rather than the rules' decision.
    public var degraded: DegradedReason?

    /// Creates a decision.
    public init(outcome: DecisionOutcome, score: Int, rules: [String], ruleset: String, degraded: DegradedReason? = nil) {
        self.outcome = outcome
        self.score = score
        self.rules = rules
        self.ruleset = ruleset
        self.degraded = degraded
    }

    /// The fallback answer for a record the rules did not decide.
    public static func fallback(_ outcome: DecisionOutcome, reason: DegradedReason) -> TransactionDecision {
        TransactionDecision(outcome: outcome, score: 0, rules: [], ruleset: "", degraded: reason)
    }

    /// The `rules` as a JSON array of strings, as stored in `transactions.decision_rules`.
    public var rulesJSON: String {
        "[" + rules.map(JSONText.quoted).joined(separator: ",") + "]"
    }
}
