/// What a transaction's sender is told to do with it, mildest first: `allow` (let it
/// through), `review` (hold it for a person), `block` (refuse it). The same three words
/// are a rule's `action`, a policy threshold's outcome and the operator's fallback.
public enum DecisionOutcome: String, Sendable, Hashable, Codable, CaseIterable, Comparable {
    case allow, review, block

    /// `allow < review < block`: combining outcomes keeps the strictest (an allow rule
    /// is the one exception, see `DecisionPolicy.decide`).
    public static func < (lhs: DecisionOutcome, rhs: DecisionOutcome) -> Bool {
        lhs.rank < rhs.rank
    }

    private var rank: Int {
        switch self {
        case .allow: 0
        case .review: 1
        case .block: 2
        }
    }

    /// The names, mildest first, for messages that list the choices.
    public static var names: String { allCases.map(\.rawValue).joined(separator: ", ") }
}

/// Why a decision was not made by the rules: the reply says so (`"degraded":"budget"`)
/// and the transaction's row keeps it.
public enum DegradedReason: String, Sendable, Hashable, Codable, CaseIterable {
    /// Detection did not decide within `--decision-budget`; the fallback was sent.
    case budget
    /// The record was stored without going through detection (a replay that turned out
    /// new, or no detection partition); the fallback was sent.
    case notEvaluated = "not_evaluated"
}
