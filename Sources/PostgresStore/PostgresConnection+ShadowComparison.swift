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
    /// Hits on transactions whose live alert investigators disposed as fraud, and disposed at all.
    public var fraud = 0
    public var disposed = 0
    /// Of those, disposed as legitimate (false positives); `disposed - fraud - legitimate`
    /// were inconclusive.
    public var legitimate = 0
    /// fraud ÷ (fraud + legitimate), nil until one is judged either way (inconclusive
    /// dispositions are left out, as in the API and the console): the rule's precision as far as
    /// the live alerts it overlaps were judged (a hit with no live alert has no disposition).
    public var precision: Double? { fraud + legitimate == 0 ? nil : Double(fraud) / Double(fraud + legitimate) }

    /// Creates the figures of one rule.
    public init(rule: String, hits: Int, overlapWithAlerts: Int, wouldAdd: Int, fraud: Int = 0, legitimate: Int = 0, disposed: Int = 0) {
        self.rule = rule
        self.hits = hits
        self.overlapWithAlerts = overlapWithAlerts
        self.wouldAdd = wouldAdd
        self.fraud = fraud
        self.legitimate = legitimate
        self.disposed = disposed
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
            SELECT h.rule_id, count(*), count(a.transaction_id), count(*) FILTER (WHERE a.transaction_id IS NULL),
                   count(*) FILTER (WHERE c.disposition = 'fraud'), count(c.disposition),
                   count(*) FILTER (WHERE c.disposition = 'legitimate')
            FROM rule_hits h
            JOIN transactions t ON t.id = h.transaction_id
            LEFT JOIN alerts a ON a.transaction_id = h.transaction_id
            LEFT JOIN cases c ON c.id = a.case_id
            WHERE h.mode = 'shadow' AND t.received_at >= \(since) AND t.received_at < \(until)
            GROUP BY h.rule_id ORDER BY h.rule_id
            """
        ).map { row in
            ShadowComparison(
                rule: try row.decode(0), hits: try row.decode(1), overlapWithAlerts: try row.decode(2), wouldAdd: try row.decode(3),
                fraud: try row.decode(4), legitimate: try row.decode(6), disposed: try row.decode(5))
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
