import Metrics
import VigilCore

/// Decisions as `/metrics` shows them: by outcome, the fallbacks by reason, and the
/// time from a record's arrival (decoded off the socket) to its ack being queued.
struct DecisionMetrics: Sendable {
    private let byOutcome: [Counter]
    private let byReason: [Counter]
    private let latency = Timer(label: "vigil_decision_latency_seconds")

    init() {
        byOutcome = DecisionOutcome.allCases.map { Counter(label: "vigil_decisions_total", dimensions: [("decision", $0.rawValue)]) }
        byReason = DegradedReason.allCases.map { Counter(label: "vigil_decisions_degraded_total", dimensions: [("reason", $0.rawValue)]) }
    }

    /// Counts one answered decision and its latency.
    func count(_ decision: TransactionDecision, since arrival: ContinuousClock.Instant) {
        if let index = DecisionOutcome.allCases.firstIndex(of: decision.outcome) { byOutcome[index].increment() }
        if let reason = decision.degraded, let index = DegradedReason.allCases.firstIndex(of: reason) { byReason[index].increment() }
        latency.record(duration: ContinuousClock.now - arrival)
    }
}
