import RuleLanguage
import VigilCore

/// What detection decided for one transaction: the value `Detector.detect` returns.
public struct Decision: Sendable {
    /// Every rule that hit, alert and shadow mode, in the ruleset's order.
    public var hits: [RuleHitRecord]
    /// The alert to raise, when alert-mode rules hit.
    public var alert: AlertRecord?
    /// The ruleset version that decided.
    public var rulesetVersion: String
    /// The account's profile after this transaction, to checkpoint with the batch.
    public var profile: AccountProfile
    /// Dated more than the allowed lateness before its account's newest transaction:
    /// kept out of windows and the profile, stored with `late = true`.
    public var late: Bool
    /// The rules whose evaluation failed, with the error (counted and logged by the caller).
    public var evaluationErrors: [(ruleID: String, error: EvaluationError)]
    /// Allow, review or block, with the score and the rules: what the sender is answered.
    public var verdict: TransactionDecision
    /// The card's, device's and merchant's histories after this transaction (to checkpoint).
    public var entities = EntityUpdates()
    /// When an alert is raised: the values the rules saw and each hit rule's trace
    /// (``AlertEvidence``), stored with the alert.
    public var evidenceJSON: String?

    /// Creates a decision; `verdict` defaults to what the default policy makes of `hits`.
    public init(
        hits: [RuleHitRecord], alert: AlertRecord?, rulesetVersion: String, profile: AccountProfile, late: Bool = false,
        evaluationErrors: [(ruleID: String, error: EvaluationError)] = [], verdict: TransactionDecision? = nil
    ) {
        self.verdict = verdict ?? DecisionPolicy().decide(hits, ruleset: rulesetVersion)
        self.hits = hits
        self.alert = alert
        self.rulesetVersion = rulesetVersion
        self.profile = profile
        self.late = late
        self.evaluationErrors = evaluationErrors
    }
}
