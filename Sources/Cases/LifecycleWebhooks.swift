import PostgresStore

/// The `case.updated` and `alert.disposed` webhooks, written to the outbox in the
/// transaction of the change (so a change and its events commit together), for every
/// enabled endpoint subscribed to the event type whose minimum severity admits the case's.
/// Bodies follow `Schemas/webhook-case-updated.schema.json` and
/// `Schemas/webhook-alert-disposed.schema.json`.
public enum LifecycleWebhooks {
    /// The event type sent on every change of a case.
    public static let caseUpdated = "case.updated"
    /// The event type sent for each alert of a case when it is closed.
    public static let alertDisposed = "alert.disposed"

    static func enqueue(
        caseID: Int64, kind: String, from: String?, to: String?, actor: String, on db: isolated PostgresConnection
    ) throws {
        var added = try db.execute(
            """
            INSERT INTO webhook_outbox (message_id, endpoint_id, case_id, event_type, payload)
            SELECT 'msg_' || replace(gen_random_uuid()::text, '-', ''), e.id, c.id, 'case.updated',
                   jsonb_build_object(
                       'type', 'case.updated',
                       'timestamp', to_char(now() AT TIME ZONE 'UTC', 'YYYY-MM-DD"T"HH24:MI:SS.US"Z"'),
                       'data', jsonb_build_object(
                           'case_id', c.id, 'account_id', c.account_id, 'status', c.status, 'assignee', c.assignee,
                           'severity', c.severity, 'max_score', c.max_score, 'alert_count', c.alert_count,
                           'disposition', c.disposition, 'disposition_reason', c.disposition_reason, 'revision', c.revision,
                           'updated_at', to_char(c.updated_at AT TIME ZONE 'UTC', 'YYYY-MM-DD"T"HH24:MI:SS.US"Z"'),
                           'change', jsonb_build_object('kind', \(kind)::text, 'from', \(from)::text, 'to', \(to)::text,
                                                        'actor', \(actor)::text)))
              FROM cases c
              JOIN webhook_endpoints e
                ON e.enabled AND 'case.updated' = ANY (e.event_types)
               AND (e.min_severity IS NULL
                    OR array_position(ARRAY['low','medium','high','critical'], e.min_severity)
                       <= array_position(ARRAY['low','medium','high','critical'], c.severity))
             WHERE c.id = \(caseID)
            """)
        if kind == "disposed" {
            added += try db.execute(
                """
                INSERT INTO webhook_outbox (message_id, endpoint_id, alert_id, case_id, event_type, payload)
                SELECT 'msg_' || replace(gen_random_uuid()::text, '-', ''), e.id, a.id, c.id, 'alert.disposed',
                       jsonb_build_object(
                           'type', 'alert.disposed',
                           'timestamp', to_char(now() AT TIME ZONE 'UTC', 'YYYY-MM-DD"T"HH24:MI:SS.US"Z"'),
                           'data', jsonb_build_object(
                               'alert_id', a.id, 'transaction_id', a.transaction_id, 'account_id', a.account_id,
                               'case_id', c.id, 'severity', a.severity, 'rules', (SELECT coalesce(jsonb_agg(r->'rule'), '[]'::jsonb)
                                                                                  FROM jsonb_array_elements(a.rules) r),
                               'disposition', c.disposition, 'reason', c.disposition_reason, 'disposed_by', c.disposed_by,
                               'disposed_at', to_char(c.disposed_at AT TIME ZONE 'UTC', 'YYYY-MM-DD"T"HH24:MI:SS.US"Z"')))
                  FROM cases c
                  JOIN alerts a ON a.case_id = c.id
                  JOIN webhook_endpoints e
                    ON e.enabled AND 'alert.disposed' = ANY (e.event_types)
                   AND (e.min_severity IS NULL
                        OR array_position(ARRAY['low','medium','high','critical'], e.min_severity)
                           <= array_position(ARRAY['low','medium','high','critical'], a.severity))
                 WHERE c.id = \(caseID)
                """)
        }
        if added > 0 { try db.notify("vigil_webhooks") }
    }
}
