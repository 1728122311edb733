import VigilCore

/// How `vigil serve` answers when the rules cannot decide in time: the operator's
/// choice, never a silent default (`--decision-budget`, `--decision-fallback`).
public struct DecisionSettings: Sendable, Hashable {
    /// How long after a record's arrival its decision may take; past it the record is
    /// stored and acked with `fallback` (and evaluated later). Nil: no budget, a record
    /// waits for detection however long that takes.
    public var budget: Duration?
    /// The answer when the rules did not decide: `allow` fails open, `review` and
    /// `block` fail closed. Also the answer for the rare record stored without
    /// evaluation (a replay that turned out new).
    public var fallback: DecisionOutcome

    /// Creates settings; `vigil serve` requires `fallback` whenever a budget is set.
    public init(budget: Duration? = nil, fallback: DecisionOutcome = .review) {
        self.budget = budget
        self.fallback = fallback
    }

    /// The answer for a record stored without going through detection.
    var notEvaluated: TransactionDecision { .fallback(fallback, reason: .notEvaluated) }
}
