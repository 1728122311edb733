import PostgresStore
import VigilCore

extension WebhookAdmin {
    /// Sends alerts again with their original `webhook-id`: the matching outbox rows go
    /// back to pending with a fresh retry schedule. With `endpoint`, alerts that never had a
    /// row for that endpoint (it was added later) get one, copied from another endpoint's.
    ///
    /// Give exactly one of `alertID` and `since`. Returns the number of messages queued.
    public static func replay(alertID: Int64? = nil, since: Timestamp? = nil, endpoint: Int64? = nil, on db: PostgresConnection) async throws -> Int {
        guard (alertID == nil) != (since == nil) else {
            throw WebhookError(code: .invalidArgument, message: "replay takes exactly one of --alert ID and --since TIME")
        }
        return try await db.transaction { db in
            if let endpoint {
                let exists = try db.query("SELECT 1 FROM webhook_endpoints WHERE id = \(endpoint)").count == 1
                guard exists else { throw WebhookError(code: .notFound, message: "no webhook endpoint \(endpoint); see 'vigil webhooks list'") }
                try db.execute(
                    """
                    INSERT INTO webhook_outbox (message_id, endpoint_id, alert_id, event_type, payload)
                    SELECT DISTINCT ON (o.alert_id) 'msg_' || replace(gen_random_uuid()::text, '-', ''), \(endpoint),
                           o.alert_id, o.event_type, o.payload
                    FROM webhook_outbox o JOIN alerts a ON a.id = o.alert_id
                    WHERE o.event_type = 'alert.created'
                      AND (\(alertID)::bigint IS NULL OR a.id = \(alertID))
                      AND (\(since)::timestamptz IS NULL OR a.created_at >= \(since))
                    ORDER BY o.alert_id, o.id
                    ON CONFLICT (alert_id, endpoint_id) WHERE event_type = 'alert.created' DO NOTHING
                    """)
            }
            let queued = try db.execute(
                """
                UPDATE webhook_outbox o
                   SET status = 'pending', attempts = 0, next_attempt_at = now(), last_error = NULL, delivered_at = NULL
                  FROM alerts a
                 WHERE a.id = o.alert_id
                   AND (\(alertID)::bigint IS NULL OR a.id = \(alertID))
                   AND (\(since)::timestamptz IS NULL OR a.created_at >= \(since))
                   AND (\(endpoint)::bigint IS NULL OR o.endpoint_id = \(endpoint))
                """)
            if queued > 0 { try db.notify(WebhookOutbox.channel) }
            return queued
        }
    }
}
