import Cases
import PostgresStore
import VigilCore

/// Alerts raised on past days and disposed, for the rules page's precision over time (low
/// severity, so they sort below a test's live alerts in the queue): each
/// stored as the writer stores it (transaction, alert, rule hits; the case trigger opens
/// its case), then closed through `CaseStore.apply`, the path the console and the API take.
enum DispositionHistory {
    /// One alert: its rule hits, how many whole days before now it was raised, and how its
    /// case was closed (nil: left open).
    struct Alert {
        var id: String
        var daysAgo: Int
        var hits: [(rule: String, mode: String)]
        var disposition: Disposition?
    }

    /// Stores and disposes `alerts`, each on an account of its own (one case per alert).
    static func store(_ alerts: [Alert], on db: PostgresConnection) async throws {
        for alert in alerts {
            let tx = alert.id
            let account = "acc-history-\(alert.id)"
            let ago = "\(alert.daysAgo) days"
            let rules =
                "["
                + alert.hits.filter { $0.mode == "alert" }.map {
                    "{\"rule\":\(JSONText.quoted($0.rule)),\"severity\":\"low\",\"score\":20,\"reason\":\"r\"}"
                }
                .joined(separator: ",") + "]"
            try await db.execute(
                """
                INSERT INTO transactions (id, account_id, amount_minor, currency, channel, event_time, raw)
                VALUES (\(tx), \(account), 90000, 'EUR', 'card_present', now() - \(ago)::interval, '{}')
                """)
            let caseID = try await db.query(
                """
                INSERT INTO alerts (transaction_id, account_id, amount_minor, currency, severity, total_score, rules, ruleset_version, created_at)
                VALUES (\(tx), \(account), 90000, 'EUR', 'low', 20, \(PostgresJSON(rules))::jsonb, 'rs-history', now() - \(ago)::interval)
                RETURNING case_id
                """
            ).first?.decode(0, as: Int64.self)
            for hit in alert.hits {
                try await db.execute(
                    """
                    INSERT INTO rule_hits (transaction_id, rule_id, mode, severity, score, reason, ruleset_version, created_at)
                    VALUES (\(tx), \(hit.rule), \(hit.mode), 'low', 20, 'r', 'rs-history', now() - \(ago)::interval)
                    """)
            }
            if let disposition = alert.disposition, let caseID {
                let reason = disposition == .fraud ? nil : "checked with the customer"
                _ = try await CaseStore.apply(.close(disposition, reason: reason), toCase: caseID, by: "ann", on: db)
            }
        }
    }

    /// The UTC date `daysAgo` days before the database's now, as the rules page writes it.
    static func date(daysAgo: Int, on db: PostgresConnection) async throws -> String {
        try await db.query("SELECT to_char((now() - \("\(daysAgo) days")::interval) AT TIME ZONE 'UTC', 'YYYY-MM-DD')").first?.decode(
            0, as: String.self) ?? "?"
    }
}
