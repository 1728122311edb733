import VigilCore

/// Checking the decision policy and the conflicts between it and the rules' actions.
extension Checker {
    /// The ruleset's policy from its `policy` declaration (at most one across all files),
    /// with a diagnostic for every mistake and every threshold the rules cannot reach.
    mutating func compilePolicy(_ files: [ParsedFile], rules: [CompiledRule]) -> DecisionPolicy {
        var policy = DecisionPolicy()
        var first: PolicyDecl? = nil
        var accepted: [PolicyThreshold] = []
        for file in files {
            for case .policy(let decl) in file.declarations {
                if let first {
                    diagnostics.append(
                        Diagnostic(
                            .duplicatePolicy, decl.keywordRange, "a second `policy` is declared",
                            help: "a ruleset has one decision policy: merge the thresholds into one `policy { }`",
                            note: "first declared at \(Checker.location(first.range))"))
                    continue
                }
                first = decl
                (policy, accepted) = thresholds(of: decl)
            }
        }
        guard first != nil else { return policy }
        // The highest total the alert-mode rules can reach together (allow rules add nothing).
        let reachable = min(100, rules.filter { $0.mode == .alert && $0.action != .allow }.reduce(0) { $0 + $1.score })
        for threshold in accepted where Int(clamping: threshold.score) > reachable {
            diagnostics.append(
                Diagnostic(
                    .thresholdUnreachable, threshold.scoreRange,
                    "`\(threshold.outcome) at score >= \(threshold.score)` can never apply: the alert-mode rules together score at most \(reachable)",
                    help: "lower the threshold, or give the rules that should reach it higher scores"))
        }
        return policy
    }

    /// The policy a declaration states, and the thresholds in it that are valid.
    private mutating func thresholds(of decl: PolicyDecl) -> (DecisionPolicy, [PolicyThreshold]) {
        var policy = DecisionPolicy()
        var accepted: [PolicyThreshold] = []
        var seen: [DecisionOutcome: SourceRange] = [:]
        for threshold in decl.thresholds {
            guard let outcome: DecisionOutcome = attribute(threshold.outcome, threshold.outcomeRange, "policy outcome") else { continue }
            guard outcome != .allow else {
                diagnostics.append(
                    Diagnostic(
                        .invalidPolicy, threshold.outcomeRange,
                        "a policy threshold cannot `allow`: below every threshold the decision is already allow",
                        help: "use `review at score >= N` or `block at score >= N`; to allow an exception, write a rule with `action allow`"))
                continue
            }
            if let earlier = seen[outcome] {
                diagnostics.append(
                    Diagnostic(
                        .invalidPolicy, threshold.range, "`\(outcome.rawValue)` is given two thresholds",
                        help: "keep one", note: "first given at \(Checker.location(earlier))"))
                continue
            }
            seen[outcome] = threshold.range
            guard (0...100).contains(threshold.score) else {
                diagnostics.append(
                    Diagnostic(
                        .invalidPolicy, threshold.scoreRange, "threshold \(threshold.score) is out of range",
                        help: "a total score is from 0 to 100"))
                continue
            }
            if outcome == .review { policy.reviewAtScore = Int(threshold.score) } else { policy.blockAtScore = Int(threshold.score) }
            accepted.append(threshold)
        }
        if let review = policy.reviewAtScore, let block = policy.blockAtScore, review >= block, let range = seen[.review] {
            diagnostics.append(
                Diagnostic(
                    .invalidPolicy, range,
                    "the review threshold (\(review)) is not below the block threshold (\(block)), so no score is ever sent to review",
                    help: "review from a lower score than block, e.g. `review at score >= 50` and `block at score >= 90`"))
        }
        return (policy, accepted)
    }

    /// Warnings for an `action allow` rule that can never change a decision.
    mutating func checkAllowRule(_ id: String, mode: RuleMode, score: Int, condition: TypedExpr, at range: SourceRange) {
        if mode == .shadow {
            diagnostics.append(
                Diagnostic(
                    .allowNeverDecides, range, "rule `\(id)` allows, but in shadow mode it never changes a decision",
                    help: "remove `mode shadow` to let it allow, or remove `action allow`"))
        }
        if condition.isConstant, case .bool(false) = compiler.compile(condition)(EvaluationRecord(windowCount: 0), .empty) {
            diagnostics.append(
                Diagnostic(
                    .allowNeverDecides, condition.range, "rule `\(id)` allows, but its condition is always false, so it can never fire",
                    help: "fix the condition, or remove the rule"))
        }
        if score > 0 {
            diagnostics.append(
                Diagnostic(
                    .allowNeverDecides, range, "rule `\(id)` allows, so its score \(score) is never added to the total",
                    help: "write `score 0` for an allow rule"))
        }
    }
}
