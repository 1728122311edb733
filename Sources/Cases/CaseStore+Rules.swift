import PostgresStore
import VigilCore

extension CaseStore {
    /// Per rule and mode over `[from, to)`: hits, how many of them were on alerted
    /// transactions, the dispositions of those alerts and the precision, fraud ÷ disposed
    /// (null until something is disposed). Shadow rules get the same figures: a shadow hit
    /// on a transaction that live rules alerted on is judged by that alert's disposition.
    public static func ruleFigures(from: Timestamp, to: Timestamp, on db: PostgresConnection) async throws -> JSON {
        let rows = try await db.query(
            """
            SELECT h.rule_id, h.mode, count(*), count(a.id),
                   count(*) FILTER (WHERE c.disposition = 'fraud'),
                   count(*) FILTER (WHERE c.disposition = 'legitimate'),
                   count(*) FILTER (WHERE c.disposition = 'inconclusive')
              FROM rule_hits h
              LEFT JOIN alerts a ON a.transaction_id = h.transaction_id
              LEFT JOIN cases c ON c.id = a.case_id
             WHERE h.created_at >= \(from) AND h.created_at < \(to)
             GROUP BY h.rule_id, h.mode
             ORDER BY h.rule_id, h.mode
            """)
        let rules = try rows.map { row -> JSON in
            let fraud: Int64 = try row.decode(4)
            let legitimate: Int64 = try row.decode(5)
            let inconclusive: Int64 = try row.decode(6)
            let disposed = fraud + legitimate + inconclusive
            return .object([
                ("rule", .string(try row.decode(0, as: String.self))), ("mode", .string(try row.decode(1, as: String.self))),
                ("hits", .int(try row.decode(2, as: Int64.self))), ("alerts", .int(try row.decode(3, as: Int64.self))),
                (
                    "dispositions",
                    .object([("fraud", .int(fraud)), ("legitimate", .int(legitimate)), ("inconclusive", .int(inconclusive))])
                ),
                ("disposed", .int(disposed)),
                // Inconclusive dispositions say nothing either way, so they are left out (as in the console).
                ("precision", fraud + legitimate == 0 ? .null : .raw(ratio(fraud, fraud + legitimate))),
            ])
        }
        return .object([("from", .time(from)), ("to", .time(to)), ("rules", .array(rules))])
    }

    /// `n / d` as decimal text with four digits, computed in integers (no binary rounding).
    static func ratio(_ n: Int64, _ d: Int64) -> String {
        let scaled = (n * 10_000 + d / 2) / d
        let whole = scaled / 10_000
        let fraction = String(scaled % 10_000)
        return "\(whole)." + String(repeating: "0", count: 4 - fraction.count) + fraction
    }
}
