import Testing
import VigilCore

@Suite struct DecisionPolicyTests {
    func hit(_ id: String, score: Int, action: DecisionOutcome = .review, mode: RuleMode = .alert) -> RuleHitRecord {
        RuleHitRecord(ruleID: id, mode: mode, severity: .medium, score: score, reason: "", onError: false, action: action)
    }

    @Test func nothingHitAllows() {
        let decision = DecisionPolicy(reviewAtScore: 0, blockAtScore: 90).decide([], ruleset: "rs-1")
        // A review threshold of 0 is reached by a score of 0: the operator asked for review of everything.
        #expect(decision == TransactionDecision(outcome: .review, score: 0, rules: [], ruleset: "rs-1"))
        #expect(DecisionPolicy().decide([], ruleset: "rs-1").outcome == .allow)
    }

    @Test func anAlertModeHitWithoutActionReviews() {
        #expect(DecisionPolicy().decide([hit("a", score: 10)], ruleset: "rs").outcome == .review)
    }

    @Test func theStrictestOfActionsAndThresholdsWins() {
        let policy = DecisionPolicy(reviewAtScore: 50, blockAtScore: 90)
        #expect(policy.decide([hit("a", score: 10, action: .block)], ruleset: "rs").outcome == .block)
        let twoStrong = policy.decide([hit("a", score: 60), hit("b", score: 60)], ruleset: "rs")
        #expect(twoStrong.outcome == .block && twoStrong.score == 100 && twoStrong.rules == ["a", "b"])
        // Below every threshold, a hit still reviews: its (default) action asks for it.
        #expect(DecisionPolicy(reviewAtScore: 5).decide([hit("x", score: 1)], ruleset: "rs").outcome == .review)
    }

    @Test func anAllowRuleOverridesBlockFromRulesAndThresholds() {
        let policy = DecisionPolicy(reviewAtScore: 50, blockAtScore: 90)
        let decision = policy.decide([hit("block_me", score: 100, action: .block), hit("trusted", score: 30, action: .allow)], ruleset: "rs")
        #expect(decision.outcome == .allow)
        #expect(decision.score == 100, "an allow rule's score is not added; the others' still is")
        #expect(decision.rules == ["block_me", "trusted"])
    }

    @Test func shadowHitsNeverChangeTheDecision() {
        let policy = DecisionPolicy(reviewAtScore: 10, blockAtScore: 20)
        let decision = policy.decide(
            [hit("s1", score: 100, action: .block, mode: .shadow), hit("s2", score: 0, action: .allow, mode: .shadow), hit("a", score: 15)],
            ruleset: "rs")
        #expect(decision.outcome == .review && decision.score == 15 && decision.rules == ["a"])
    }

    @Test func theAlertLeavesAllowRulesOut() {
        let alert = AlertRecord(raisedBy: [hit("trusted", score: 30, action: .allow), hit("a", score: 20)])
        #expect(alert?.hits.map(\.ruleID) == ["a"] && alert?.totalScore == 20)
        #expect(AlertRecord(raisedBy: [hit("trusted", score: 0, action: .allow)]) == nil)
    }
}
