import PostgresStore
import VigilCore

extension CaseStore {
    /// One alert with everything an investigator needs: its transaction (as received and
    /// as decided), every rule that hit it (alert and shadow mode) with its reason, the
    /// enrichment values the rules saw and each hit rule's explain trace, and its case.
    public static func alert(id: Int64, on db: PostgresConnection) async throws -> JSON {
        let rows = try await db.query(
            """
            SELECT a.id, a.transaction_id, a.account_id, a.amount_minor, a.currency, a.severity, a.total_score,
                   a.decision, a.decision_degraded, a.ruleset_version, a.created_at, a.evidence::text, a.case_id
              FROM alerts a WHERE a.id = \(id)
            """)
        guard let row = rows.first else {
            throw CaseError(.notFound, code: "not_found", message: "no alert \(id); list alerts with GET /api/v1/alerts")
        }
        let transactionID: String = try row.decode(1)
        let caseID: Int64 = try row.decode(12)
        let transaction = try await transaction(id: transactionID, on: db)
        let hits = try await ruleHits(transactionID: transactionID, on: db)
        let caseRows = try await db.query(
            """
            SELECT c.id, c.account_id, c.status, c.assignee, c.severity, c.max_score, c.alert_count, c.disposition,
                   c.opened_at, c.last_alert_at, c.updated_at, c.revision
              FROM cases c WHERE c.id = \(caseID)
            """)
        return .object([
            ("id", .int(try row.decode(0, as: Int64.self))), ("transaction_id", .string(transactionID)),
            ("account_id", .string(try row.decode(2, as: String.self))),
            ("amount", amount(try row.decode(3), try row.decode(4))), ("currency", .string(try row.decode(4, as: String.self))),
            ("severity", .string(try row.decode(5, as: String.self))), ("total_score", .int(try row.decode(6, as: Int64.self))),
            ("decision", .string(try row.decodeIfPresent(7, as: String.self))),
            ("decision_degraded", .string(try row.decodeIfPresent(8, as: String.self))),
            ("ruleset_version", .string(try row.decode(9, as: String.self))), ("created_at", .time(try row.decode(10))),
            ("hits", .array(hits)), ("evidence", try row.decodeIfPresent(11, as: String.self).map(JSON.raw) ?? .null),
            ("transaction", transaction), ("case", try caseRows.first.map(caseSummary) ?? .null),
        ])
    }

    /// How many of a case's alerts ``case(id:on:)`` gives in full.
    public static let alertsInFull = 25

    /// A case with its first alerts in full (each with its hits and evidence), the ids of
    /// all (up to 1,000), its notes and its full history.
    public static func `case`(id: Int64, on db: PostgresConnection) async throws -> JSON {
        let rows = try await db.query(
            """
            SELECT c.id, c.account_id, c.status, c.assignee, c.severity, c.max_score, c.alert_count, c.disposition,
                   c.opened_at, c.last_alert_at, c.updated_at, c.revision, c.disposition_reason, c.disposed_by, c.disposed_at
              FROM cases c WHERE c.id = \(id)
            """)
        guard let row = rows.first, case .object(var members) = try caseSummary(row) else {
            throw CaseError(.notFound, code: "not_found", message: "no case \(id); list cases with GET /api/v1/cases")
        }
        members.append(("disposition_reason", .string(try row.decodeIfPresent(12, as: String.self))))
        members.append(("disposed_by", .string(try row.decodeIfPresent(13, as: String.self))))
        members.append(("disposed_at", .time(try row.decodeIfPresent(14))))
        let alertIDs = try await db.query("SELECT id FROM alerts WHERE case_id = \(id) ORDER BY id LIMIT 1000").map {
            try $0.decode(0, as: Int64.self)
        }
        // Each alert in full costs a few queries: the first ones in full (an attack's case can
        // hold hundreds), every id listed so a client can fetch the rest.
        var alerts: [JSON] = []
        for alertID in alertIDs.prefix(Self.alertsInFull) { alerts.append(try await alert(id: alertID, on: db)) }
        members.append(("alerts", .array(alerts)))
        members.append(("alert_ids", .array(alertIDs.map { JSON.int($0) })))
        let events = try await history(caseID: id, on: db)
        members.append(("notes", .array(events.notes)))
        members.append(("history", .array(events.all)))
        return .object(members)
    }

    /// A stored transaction: the fields as stored, the line as received, and the decision.
    public static func transaction(id: String, on db: PostgresConnection) async throws -> JSON {
        let rows = try await db.query(
            """
            SELECT id, account_id, card_id, amount_minor, currency, merchant_id, mcc, country, channel, device_id, ip,
                   event_time, received_at, late, decision, decision_score, decision_rules::text, decision_ruleset,
                   decision_degraded, raw::text
              FROM transactions WHERE id = \(id)
            """)
        guard let row = rows.first else {
            throw CaseError(.notFound, code: "not_found", message: "no transaction '\(id)' is stored")
        }
        let alertIDs = try await db.query("SELECT id FROM alerts WHERE transaction_id = \(id)").map { JSON.int(try $0.decode(0, as: Int64.self)) }
        return .object([
            ("id", .string(try row.decode(0, as: String.self))), ("account_id", .string(try row.decode(1, as: String.self))),
            ("card_id", .string(try row.decodeIfPresent(2, as: String.self))),
            ("amount", amount(try row.decode(3), try row.decode(4))), ("currency", .string(try row.decode(4, as: String.self))),
            ("merchant_id", .string(try row.decodeIfPresent(5, as: String.self))), ("mcc", .string(try row.decodeIfPresent(6, as: String.self))),
            ("country", .string(try row.decodeIfPresent(7, as: String.self))), ("channel", .string(try row.decode(8, as: String.self))),
            ("device_id", .string(try row.decodeIfPresent(9, as: String.self))), ("ip", .string(try row.decodeIfPresent(10, as: String.self))),
            ("event_time", .time(try row.decode(11))), ("received_at", .time(try row.decode(12))), ("late", .bool(try row.decode(13))),
            (
                "decision",
                try row.decodeIfPresent(14, as: String.self).map { outcome in
                    .object([
                        ("outcome", .string(outcome)), ("score", .int(try row.decodeIfPresent(15, as: Int64.self))),
                        ("rules", try row.decodeIfPresent(16, as: String.self).map(JSON.raw) ?? .array([])),
                        ("ruleset_version", .string(try row.decodeIfPresent(17, as: String.self))),
                        ("degraded", .string(try row.decodeIfPresent(18, as: String.self))),
                    ])
                } ?? .null
            ),
            ("alert_ids", .array(alertIDs)), ("raw", .raw(try row.decode(19, as: String.self))),
        ])
    }

    /// An account's most recent transactions (by event time) and alerts, newest first.
    public static func activity(account: String, limit: Int, on db: PostgresConnection) async throws -> JSON {
        let transactions = try await db.query(
            """
            SELECT id, amount_minor, currency, merchant_id, country, channel, event_time, decision
              FROM transactions WHERE account_id = \(account) ORDER BY event_time DESC LIMIT \(limit)
            """
        ).map { row in
            JSON.object([
                ("id", .string(try row.decode(0, as: String.self))), ("amount", amount(try row.decode(1), try row.decode(2))),
                ("currency", .string(try row.decode(2, as: String.self))), ("merchant_id", .string(try row.decodeIfPresent(3, as: String.self))),
                ("country", .string(try row.decodeIfPresent(4, as: String.self))), ("channel", .string(try row.decode(5, as: String.self))),
                ("event_time", .time(try row.decode(6))), ("decision", .string(try row.decodeIfPresent(7, as: String.self))),
            ])
        }
        var filter = ListFilter()
        filter.account = account
        filter.limit = limit
        let alerts = try await alerts(filter, on: db)
        return .object([("account_id", .string(account)), ("transactions", .array(transactions)), ("alerts", .array(alerts.items))])
    }

    /// Every rule that hit the transaction, alert and shadow mode.
    static func ruleHits(transactionID: String, on db: PostgresConnection) async throws -> [JSON] {
        try await db.query(
            """
            SELECT rule_id, mode, severity, score, reason, on_error FROM rule_hits
             WHERE transaction_id = \(transactionID) ORDER BY id
            """
        ).map { row in
            .object([
                ("rule", .string(try row.decode(0, as: String.self))), ("mode", .string(try row.decode(1, as: String.self))),
                ("severity", .string(try row.decode(2, as: String.self))), ("score", .int(try row.decode(3, as: Int64.self))),
                ("reason", .string(try row.decode(4, as: String.self))), ("on_error", .bool(try row.decode(5))),
            ])
        }
    }

    /// The case's events, oldest first, and the notes among them.
    static func history(caseID: Int64, on db: PostgresConnection) async throws -> (all: [JSON], notes: [JSON]) {
        var all: [JSON] = []
        var notes: [JSON] = []
        for row in try await db.query(
            "SELECT id, at, actor, kind, from_value, to_value, alert_id, note FROM case_events WHERE case_id = \(caseID) ORDER BY id")
        {
            let kind: String = try row.decode(3)
            let event = JSON.object([
                ("id", .int(try row.decode(0, as: Int64.self))), ("at", .time(try row.decode(1))),
                ("actor", .string(try row.decode(2, as: String.self))),
                ("kind", .string(kind)), ("from", .string(try row.decodeIfPresent(4, as: String.self))),
                ("to", .string(try row.decodeIfPresent(5, as: String.self))), ("alert_id", .int(try row.decodeIfPresent(6, as: Int64.self))),
                ("note", .string(try row.decodeIfPresent(7, as: String.self))),
            ])
            all.append(event)
            if kind == "note" { notes.append(event) }
        }
        return (all, notes)
    }
}
