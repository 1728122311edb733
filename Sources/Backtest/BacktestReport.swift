import VigilCore

/// What a backtest found: per rule and in total, the candidate against its baseline.
public struct BacktestReport: Sendable, Codable {
    /// One rule's figures over the period.
    public struct RuleFigures: Sendable, Codable, Equatable {
        /// The rule's id.
        public var rule: String
        /// Its mode in the candidate (or in the baseline for a rule the candidate removes).
        public var mode: RuleMode
        /// In the candidate ruleset / in the baseline.
        public var inCandidate: Bool
        public var inBaseline: Bool
        /// Transactions the rule hit in the candidate run and in the baseline.
        public var hits = 0
        public var baselineHits = 0
        /// Hits the candidate has and the baseline has not, and the other way round.
        public var added = 0
        public var removed = 0
        /// Candidate hits on transactions investigators disposed as fraud / as legitimate.
        public var fraudHits = 0
        public var legitimateHits = 0
    }

    /// The candidate (or the baseline) against investigators' dispositions (docs/api.md):
    /// labeled fraud it alerted on and missed, and known false positives it alerted on.
    public struct LabelFigures: Sendable, Codable, Equatable {
        public var fraudCaught = 0
        public var fraudMissed = 0
        public var falsePositivesRaised = 0

        /// Creates the figures.
        public init(fraudCaught: Int = 0, fraudMissed: Int = 0, falsePositivesRaised: Int = 0) {
            self.fraudCaught = fraudCaught
            self.fraudMissed = fraudMissed
            self.falsePositivesRaised = falsePositivesRaised
        }
    }

    /// One account's change in alerts.
    public struct AccountFigures: Sendable, Codable, Equatable {
        public var account: String
        public var alertsAdded: Int
        public var alertsRemoved: Int
    }

    /// One rule hit of the candidate run (kept when asked, for comparisons and tests).
    public struct Hit: Sendable, Codable, Hashable {
        public var transaction: String
        public var rule: String

        /// A hit of `rule` on `transaction`.
        public init(transaction: String, rule: String) {
            self.transaction = transaction
            self.rule = rule
        }
    }

    /// The candidate's ruleset version and rule count.
    public var candidateVersion: String
    public var candidateRules: Int
    /// `live` (the hits stored by the live pipeline) or the baseline ruleset's version.
    public var baseline: String
    /// The period replayed, by event time: `[from, to)` (RFC 3339, UTC).
    public var from: String
    public var to: String
    /// Transactions replayed before `from` to rebuild windows and profiles (not counted).
    public var warmupTransactions = 0
    /// Transactions in the period.
    public var transactions = 0
    /// Transactions dated after the period that arrived before its last one (replayed, not counted).
    public var laterTransactions = 0
    /// Transactions that alerted in the candidate run and in the baseline; alerts the
    /// candidate adds and removes.
    public var alerts = 0
    public var baselineAlerts = 0
    public var alertsAdded = 0
    public var alertsRemoved = 0
    /// Transactions of the period that investigators disposed as fraud and as legitimate,
    /// and how the candidate and the baseline fare against them.
    public var labeledFraud = 0
    public var labeledLegitimate = 0
    public var candidateLabels = LabelFigures()
    public var baselineLabels = LabelFigures()
    /// Per rule, candidate rules first in their order, then rules only the baseline has.
    public var rules: [RuleFigures] = []
    /// The accounts whose alerts change most (up to 10).
    public var accountsMostAffected: [AccountFigures] = []
    /// Reference-data changes applied during the replay, and since when changes are recorded.
    public var referenceChanges = 0
    public var referenceRecordedSince: String?
    /// Wall time of the replay and its rate (warm-up included).
    public var seconds = 0.0
    public var transactionsPerSecond = 0.0
    /// Every candidate hit in the period, when the run was asked to keep them.
    public var hits: [Hit]?
}

/// Why a backtest could not run.
public enum BacktestError: Error, CustomStringConvertible {
    case unreadableRow(id: String, detail: String)
    case badPeriod(from: Timestamp, to: Timestamp)

    public var description: String {
        switch self {
        case .unreadableRow(let id, let detail):
            "stored transaction \(id) cannot be replayed: \(detail)"
        case .badPeriod(let from, let to):
            "the period is empty: --from \(RFC3339.format(from)) is not before --to \(RFC3339.format(to))"
        }
    }
}
