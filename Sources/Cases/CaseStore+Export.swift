import PostgresStore
import VigilCore

extension CaseStore {
    /// Labeled transactions for offline analysis: one JSON object per alert of a case
    /// closed at or after `since`, oldest disposal first, with the transaction as received,
    /// its decision and rules, and the disposition. Read in pages so a long export holds no
    /// large result in memory; `write` gets each line (without the newline).
    @discardableResult
    public static func exportLabels(since: Timestamp, on db: PostgresConnection, write: (String) throws -> Void) async throws -> Int {
        var after: (Timestamp, Int64)?
        var count = 0
        while true {
            let rows = try await db.query(
                """
                SELECT a.id, c.disposed_at, a.transaction_id, a.account_id, c.id, c.disposition, c.disposition_reason, c.disposed_by,
                       a.rules::text, t.decision, t.event_time, t.raw::text
                  FROM cases c JOIN alerts a ON a.case_id = c.id JOIN transactions t ON t.id = a.transaction_id
                 WHERE c.disposed_at >= \(since)
                   AND (\(after?.0)::timestamptz IS NULL OR (c.disposed_at, a.id) > (\(after?.0)::timestamptz, \(after?.1)::bigint))
                 ORDER BY c.disposed_at, a.id LIMIT 1000
                """)
            if rows.count == 0 { return count }
            for row in rows {
                let alertID: Int64 = try row.decode(0)
                let disposedAt: Timestamp = try row.decode(1)
                after = (disposedAt, alertID)
                let line = JSON.object([
                    ("transaction_id", .string(try row.decode(2, as: String.self))), ("account_id", .string(try row.decode(3, as: String.self))),
                    ("alert_id", .int(alertID)), ("case_id", .int(try row.decode(4, as: Int64.self))),
                    ("label", .string(try row.decode(5, as: String.self))), ("reason", .string(try row.decodeIfPresent(6, as: String.self))),
                    ("disposed_by", .string(try row.decodeIfPresent(7, as: String.self))), ("disposed_at", .time(disposedAt)),
                    ("rules", ruleIDs(try row.decode(8))), ("decision", .string(try row.decodeIfPresent(9, as: String.self))),
                    ("event_time", .time(try row.decode(10))), ("transaction", .raw(try row.decode(11, as: String.self))),
                ])
                try write(line.text)
                count += 1
            }
        }
    }
}
