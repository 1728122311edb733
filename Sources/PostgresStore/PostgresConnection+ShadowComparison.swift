import VigilCore

/// A shadow rule set against the live alerts of a period (`vigil rules compare`).
public struct ShadowComparison: Sendable, Codable, Equatable {
    /// The shadow rule.
    public var rule: String
    /// Transactions it hit.
    public var hits: Int
    /// Of those, transactions that raised a live alert anyway (what it would duplicate).
    public var overlapWithAlerts: Int
    /// Of those, transactions with no live alert (what promoting it would add).
    public var wouldAdd: Int

    /// Creates the figures of one rule.
    public init(rule: String, hits: Int, overlapWithAlerts: Int, wouldAdd: Int) {
        self.rule = rule
        self.hits = hits
        self.overlapWithAlerts = overlapWithAlerts
        self.wouldAdd = wouldAdd
    }
}

/// The figures `vigil rules compare` prints.
public struct ShadowReport: Sendable, Codable, Equatable {
    /// Transactions stored and live alerts raised in the period.
    public var transactions: Int
    public var alerts: Int
    /// One entry per shadow rule that hit, by rule id.
    public var rules: [ShadowComparison]
}

extension PostgresConnection {
    /// Shadow-rule hits of transactions received in `[since, until)` against the live
    /// alerts of the same transactions.
    public func shadowComparison(since: Timestamp, until: Timestamp) throws -> ShadowReport {
        let rules = try query(
            """
            SELECT h.rule_id, count(*), count(a.transaction_id), count(*) FILTER (WHERE a.transaction_id IS NULL)
            FROM rule_hits h
            JOIN transactions t ON t.id = h.transaction_id
            LEFT JOIN alerts a ON a.transaction_id = h.transaction_id
            WHERE h.mode = 'shadow' AND t.received_at >= \(since) AND t.received_at < \(until)
            GROUP BY h.rule_id ORDER BY h.rule_id
            """
        ).map { row in
            ShadowComparison(rule: try row.decode(0), hits: try row.decode(1), overlapWithAlerts: try row.decode(2), wouldAdd: try row.decode(3))
        }
        let totals = try query(
            """
            SELECT count(*), count(a.transaction_id) FROM transactions t LEFT JOIN alerts a ON a.transaction_id = t.id
            WHERE t.received_at >= \(since) AND t.received_at < \(until)
            """
        ).first
        return ShadowReport(transactions: try totals?.decode(0) ?? 0, alerts: try totals?.decode(1) ?? 0, rules: rules)
    }
}
