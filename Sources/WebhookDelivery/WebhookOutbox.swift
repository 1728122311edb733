import PostgresStore

/// The transactional outbox: the pipeline calls ``enqueue(alertID:severity:body:on:)`` inside
/// the database transaction that inserts the alert, so the alert and its deliveries commit
/// (or roll back) together.
public enum WebhookOutbox {
    /// The LISTEN/NOTIFY channel that wakes the dispatcher. The notification is sent at
    /// commit, so the dispatcher never looks before the rows are visible.
    public static let channel = "vigil_webhooks"

    /// One alert to enqueue in a batch.
    public struct Entry: Sendable, Hashable {
        /// The `alerts.id` just inserted.
        public var alertID: Int64
        /// The alert's severity (`low`, `medium`, `high`, `critical`).
        public var severity: String
        /// The body from ``AlertEventBody/make(alertID:transactionID:accountID:amount:severity:totalScore:rules:rulesetVersion:createdAt:transactionJSON:timestamp:)``.
        public var body: String

        /// Creates an entry.
        public init(alertID: Int64, severity: String, body: String) {
            self.alertID = alertID
            self.severity = severity
            self.body = body
        }
    }

    /// Inserts one outbox row per enabled endpoint subscribed to `alert.created` whose
    /// minimum severity admits `severity`, each with a random `message_id` (the stable
    /// `webhook-id`), and notifies the dispatcher when any row was added. Idempotent per
    /// (alert, endpoint). Returns the number of rows added.
    @discardableResult
    public static func enqueue(alertID: Int64, severity: String, body: String, on db: isolated PostgresConnection) throws -> Int {
        try enqueue([Entry(alertID: alertID, severity: severity, body: body)], on: db)
    }

    /// Batch form of ``enqueue(alertID:severity:body:on:)``: one statement for all the
    /// alerts of a pipeline batch.
    @discardableResult
    public static func enqueue(_ entries: [Entry], on db: isolated PostgresConnection) throws -> Int {
        guard !entries.isEmpty else { return 0 }
        let ids = PostgresTextArray(entries.map { String($0.alertID) })
        let severities = PostgresTextArray(entries.map(\.severity))
        let bodies = PostgresTextArray(entries.map(\.body))
        let eventType = AlertEventBody.eventType
        let added = try db.execute(
            """
            INSERT INTO webhook_outbox (message_id, endpoint_id, alert_id, event_type, payload)
            SELECT 'msg_' || replace(gen_random_uuid()::text, '-', ''), e.id, a.alert_id, \(eventType), a.body::jsonb
            FROM unnest(\(ids)::bigint[], \(severities)::text[], \(bodies)::text[]) AS a(alert_id, severity, body)
            JOIN webhook_endpoints e
              ON e.enabled AND \(eventType) = ANY (e.event_types)
             AND (e.min_severity IS NULL
                  OR array_position(ARRAY['low','medium','high','critical'], e.min_severity)
                     <= array_position(ARRAY['low','medium','high','critical'], a.severity))
            ON CONFLICT (alert_id, endpoint_id) WHERE event_type = 'alert.created' DO NOTHING
            """)
        if added > 0 { try db.notify(channel) }
        return added
    }
}
