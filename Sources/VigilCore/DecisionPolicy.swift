/// How a ruleset turns rule hits into a decision: each alert-mode rule's action, plus
/// the score thresholds of the ruleset's `policy` declaration (none by default).
///
/// Combination, in order (as Stripe Radar orders allow before block and review):
/// 1. an alert-mode rule with `action allow` that hits makes the decision `allow`,
///    whatever else hit and whatever the score (an explicit, analyst-written exception);
/// 2. otherwise the strictest of the alert-mode hits' actions (no action is `review`)
///    and of the policy thresholds the total score reaches (`block` over `review`);
/// 3. nothing reached: `allow`.
/// Shadow-mode hits never count, and an allow rule's own score is not added to the total.
public struct DecisionPolicy: Sendable, Hashable {
    /// Total score from which the decision is at least `review` (nil: no threshold).
    public var reviewAtScore: Int?
    /// Total score from which the decision is `block` (nil: no threshold).
    public var blockAtScore: Int?

    /// Creates a policy; no thresholds means only the rules' actions decide.
    public init(reviewAtScore: Int? = nil, blockAtScore: Int? = nil) {
        self.reviewAtScore = reviewAtScore
        self.blockAtScore = blockAtScore
    }

    /// The decision for `hits` (every rule that hit, any mode) under this policy.
    public func decide(_ hits: [RuleHitRecord], ruleset: String) -> TransactionDecision {
        var rules: [String] = []
        var strictest = DecisionOutcome.allow
        var allowed = false
        var score = 0
        for hit in hits where hit.mode == .alert {
            rules.append(hit.ruleID)
            if hit.action == .allow {
                allowed = true
                continue
            }
            score += hit.score
            strictest = max(strictest, hit.action)
        }
        score = min(score, 100)
        if let blockAtScore, score >= blockAtScore {
            strictest = .block
        } else if let reviewAtScore, score >= reviewAtScore {
            strictest = max(strictest, .review)
        }
        return TransactionDecision(outcome: allowed ? .allow : strictest, score: score, rules: rules, ruleset: ruleset)
    }
}
