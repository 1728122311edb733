import Metrics
import Synchronization
import VigilCore

/// Per-rule counters on `/metrics`: `vigil_rule_hits_total{rule,mode}` and
/// `vigil_rule_evaluation_errors_total{rule}`. A batch counts locally and adds once per
/// rule it touched, so the hot path takes the lock a few times per batch, not per hit.
final class RuleMetrics: Sendable {
    private struct Key: Hashable {
        var rule: String
        var mode: RuleMode?
    }

    private let counters = Mutex<[Key: Counter]>([:])

    /// Adds one batch's hits and evaluation errors.
    func record(hits: [String: (mode: RuleMode, count: Int)], errors: [String: Int]) {
        guard !hits.isEmpty || !errors.isEmpty else { return }
        for (rule, tally) in hits { counter(Key(rule: rule, mode: tally.mode)).increment(by: tally.count) }
        for (rule, count) in errors { counter(Key(rule: rule, mode: nil)).increment(by: count) }
    }

    private func counter(_ key: Key) -> Counter {
        counters.withLock { table in
            if let known = table[key] { return known }
            let made =
                if let mode = key.mode {
                    Counter(label: "vigil_rule_hits_total", dimensions: [("rule", key.rule), ("mode", mode.rawValue)])
                } else {
                    Counter(label: "vigil_rule_evaluation_errors_total", dimensions: [("rule", key.rule)])
                }
            table[key] = made
            return made
        }
    }
}
