import PostgresStore

extension RuleStats {
    /// Reads, with one query for every rule, the dispositions of each rule's alerts per UTC
    /// day of the alert over the last `days` days, into `byRule` (adding rules that hit no
    /// longer but whose alerts were disposed).
    ///
    /// Bucketed by when the alert was raised, not when it was disposed: the chart answers
    /// "how good were this rule's alerts on that day", so a change to the rule or to the
    /// traffic shows on the day it happened; recent days fill in as cases are closed.
    /// A rule's hits in either mode count, judged by the alert's disposition (as the API's
    /// per-rule figures do, docs/api.md): a shadow rule's precision is the evidence for
    /// promoting it.
    ///
    /// The query starts from the disposed cases, a number bounded by what investigators
    /// close, never from the feed's volume of alerts or hits: `last_alert_at` is at least the
    /// time of every alert of its case, so the repeated window on it only lets the index of
    /// migration 0022 (disposed cases by `last_alert_at`) find them.
    static func readPrecision(into byRule: inout [String: Rule], on db: PostgresConnection) async throws {
        let rows = try await db.query(
            """
            WITH since AS (SELECT (date_trunc('day', now() AT TIME ZONE 'UTC') - interval '29 days') AT TIME ZONE 'UTC' AS t)
            SELECT h.rule_id, (now() AT TIME ZONE 'UTC')::date - (a.created_at AT TIME ZONE 'UTC')::date,
                   to_char(a.created_at AT TIME ZONE 'UTC', 'YYYY-MM-DD'),
                   count(*) FILTER (WHERE c.disposition = 'fraud'),
                   count(*) FILTER (WHERE c.disposition = 'legitimate'),
                   count(*) FILTER (WHERE c.disposition = 'inconclusive')
              FROM since, cases c
              JOIN alerts a ON a.case_id = c.id
              JOIN rule_hits h ON h.transaction_id = a.transaction_id
             WHERE c.disposition IS NOT NULL AND c.last_alert_at >= since.t AND a.created_at >= since.t
             GROUP BY 1, 2, 3
            """)
        for row in rows {
            let id: String = try row.decode(0)
            let daysAgo: Int = try row.decode(1)
            // An alert stamped after the database's now (a clock step) has no bucket yet.
            guard (0..<days).contains(daysAgo) else { continue }
            var rule = byRule[id] ?? Rule(id: id)
            let day = PrecisionChart.Day(
                date: try row.decode(2), fraud: try row.decode(3), legitimate: try row.decode(4), inconclusive: try row.decode(5))
            rule.precisionByDay[days - 1 - daysAgo] = day
            byRule[id] = rule
        }
    }
}
