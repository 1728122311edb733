import PostgresStore

/// `vigil feed score`'s view of investigators' dispositions (docs/api.md) against a
/// generated feed's labels: how many alerts were disposed, and how often the disposition agrees with what the generator
/// knows the transaction was. On real traffic the dispositions are the only labels; on a
/// generated feed this shows how well the investigation (or a scripted one) judged.
public struct DispositionScore: Sendable, Equatable {
    /// Nothing disposed.
    public init() {}

    /// Alerts disposed each way.
    public var fraud = 0
    public var legitimate = 0
    public var inconclusive = 0
    /// Disposed fraud that the feed labels fraud; disposed legitimate that it labels legitimate.
    public var fraudAgrees = 0
    public var legitimateAgrees = 0

    /// Reads every disposition and compares it with `fraudTransactions` (the feed's fraud).
    public static func read(fraudTransactions: Set<String>, on db: PostgresConnection) async throws -> DispositionScore {
        var score = DispositionScore()
        for row in try await db.query("SELECT transaction_id, disposition FROM dispositions") {
            let id: String = try row.decode(0)
            switch try row.decode(1, as: String.self) {
            case "fraud":
                score.fraud += 1
                if fraudTransactions.contains(id) { score.fraudAgrees += 1 }
            case "legitimate":
                score.legitimate += 1
                if !fraudTransactions.contains(id) { score.legitimateAgrees += 1 }
            default:
                score.inconclusive += 1
            }
        }
        return score
    }

    /// One line for `vigil feed score`.
    public var text: String {
        let total = fraud + legitimate + inconclusive
        guard total > 0 else {
            return "dispositions: none yet (close cases with 'vigil cases close' or POST /api/v1/cases/ID/close to compare them here)"
        }
        return "dispositions: \(total) alerts disposed (\(fraud) fraud, \(legitimate) legitimate, \(inconclusive) inconclusive); "
            + "agreeing with the feed's labels: fraud \(fraudAgrees)/\(fraud), legitimate \(legitimateAgrees)/\(legitimate)"
    }

    /// The figures for `vigil feed score --json`.
    public var json: [String: Int] {
        [
            "fraud": fraud, "legitimate": legitimate, "inconclusive": inconclusive, "fraud_agrees": fraudAgrees,
            "legitimate_agrees": legitimateAgrees,
        ]
    }
}
