import PostgresStore
import VigilCore

/// Everything the alert page shows, read in one go: the alert, its transaction, every
/// rule hit (alert and shadow) with its reason, and the account's recent activity.
public struct AlertDetail: Sendable {
    public var id: Int64
    public var transactionID: String
    public var accountID: String
    public var amountMinor: Int64
    public var currency: String
    public var severity: String
    public var score: Int
    public var rulesetVersion: String
    public var createdAt: Timestamp
    public var decision: String?
    /// The transaction's fields as label and value, in reading order (absent ones left out).
    public var facts: [(label: String, value: String, isTime: Bool)]
    public var hits: [Hit]
    public var timeline: [TimelineEntry]

    /// A rule that hit the transaction.
    public struct Hit: Sendable {
        public var rule: String
        public var mode: String
        public var severity: String
        public var score: Int
        public var reason: String
        public var onError: Bool
    }

    /// One of the account's transactions around this one.
    public struct TimelineEntry: Sendable {
        public var id: String
        public var at: Timestamp
        public var amountMinor: Int64
        public var currency: String
        public var channel: String
        public var merchant: String?
        public var country: String?
        public var alertID: Int64?
        public var alertSeverity: String?
    }

    /// The alert with this id; nil when there is none.
    public static func load(id: Int64, on db: PostgresConnection) async throws -> AlertDetail? {
        let alerts = try await db.query(
            """
            SELECT a.id, a.transaction_id, a.account_id, a.amount_minor, a.currency, a.severity, a.total_score, a.ruleset_version,
                   a.created_at, a.decision, t.card_id, t.merchant_id, t.mcc, t.country, t.channel, t.device_id, t.ip,
                   t.event_time, t.received_at, t.decision, t.decision_score
            FROM alerts a JOIN transactions t ON t.id = a.transaction_id WHERE a.id = \(id)
            """)
        guard let row = alerts.first else { return nil }
        let transactionID: String = try row.decode(1)
        let accountID: String = try row.decode(2)
        let amountMinor: Int64 = try row.decode(3)
        let currency: String = try row.decode(4)
        let eventTime: Timestamp = try row.decode(17)
        var facts: [(label: String, value: String, isTime: Bool)] = [
            ("Id", transactionID, false), ("Account", accountID, false),
            ("Amount", MoneyText.format(minorUnits: amountMinor, currency: currency), false),
        ]
        let optional: [(String, Int)] = [("Card", 10), ("Merchant", 11), ("MCC", 12), ("Country", 13), ("Channel", 14), ("Device", 15), ("IP", 16)]
        for (label, column) in optional {
            if let value = try row.decodeIfPresent(column, as: String.self) { facts.append((label, value, false)) }
        }
        facts.append(("Event time", RFC3339.format(eventTime), true))
        facts.append(("Received", RFC3339.format(try row.decode(18, as: Timestamp.self)), true))
        if let decision = try row.decodeIfPresent(19, as: String.self) {
            let score = try row.decodeIfPresent(20, as: Int.self).map { " (score \($0))" } ?? ""
            facts.append(("Decision", decision + score, false))
        }
        let hits = try await db.query(
            "SELECT rule_id, mode, severity, score, reason, on_error FROM rule_hits WHERE transaction_id = \(transactionID) ORDER BY mode, score DESC, rule_id"
        ).map { hit in
            Hit(
                rule: try hit.decode(0), mode: try hit.decode(1), severity: try hit.decode(2), score: try hit.decode(3), reason: try hit.decode(4),
                onError: try hit.decode(5))
        }
        // Bounded by event time, so the BRIN index on it narrows the scan (there is no index
        // by account: it would cost every insert on the feed's hot path).
        let timeline = try await db.query(
            """
            SELECT t.id, t.event_time, t.amount_minor, t.currency, t.channel, t.merchant_id, t.country, a.id, a.severity
            FROM transactions t LEFT JOIN alerts a ON a.transaction_id = t.id
            WHERE t.account_id = \(accountID)
              AND t.event_time BETWEEN \(eventTime)::timestamptz - interval '7 days' AND \(eventTime)::timestamptz + interval '1 day'
            ORDER BY t.event_time DESC, t.id DESC LIMIT 25
            """
        ).map { entry in
            TimelineEntry(
                id: try entry.decode(0), at: try entry.decode(1), amountMinor: try entry.decode(2), currency: try entry.decode(3),
                channel: try entry.decode(4), merchant: try entry.decodeIfPresent(5), country: try entry.decodeIfPresent(6),
                alertID: try entry.decodeIfPresent(7), alertSeverity: try entry.decodeIfPresent(8))
        }
        return AlertDetail(
            id: try row.decode(0), transactionID: transactionID, accountID: accountID, amountMinor: amountMinor, currency: currency,
            severity: try row.decode(5), score: try row.decode(6), rulesetVersion: try row.decode(7), createdAt: try row.decode(8),
            decision: try row.decodeIfPresent(9), facts: facts, hits: hits, timeline: timeline)
    }
}
