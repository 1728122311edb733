import VigilCore

extension PostgresConnection {
    /// The decisions stored with the transactions `ids` (those that have one; rows stored
    /// before decisions were kept have none). A replay is answered with these, never with
    /// a new evaluation: one indexed lookup, made only for batches that met a duplicate.
    public func storedDecisions(_ ids: [String]) throws -> [String: TransactionDecision] {
        guard !ids.isEmpty else { return [:] }
        let rows = try query(
            """
            SELECT id, decision, decision_score, ARRAY(SELECT jsonb_array_elements_text(decision_rules)),
                   decision_ruleset, decision_degraded
            FROM transactions WHERE id = ANY(\(PostgresTextArray(ids))::text[]) AND decision IS NOT NULL
            """)
        var decisions: [String: TransactionDecision] = [:]
        for row in rows {
            guard let id = row.text(0), let outcome = row.text(1).flatMap(DecisionOutcome.init(rawValue:)) else { continue }
            decisions[id] = TransactionDecision(
                outcome: outcome, score: Int(try row.decodeIfPresent(2, as: Int64.self) ?? 0),
                rules: try row.decodeIfPresent(3, as: PostgresTextArray.self)?.elements ?? [],
                ruleset: row.text(4) ?? "", degraded: row.text(5).flatMap(DegradedReason.init(rawValue:)))
        }
        return decisions
    }
}
