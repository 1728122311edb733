import PostgresStore
import Secrets
import VigilCore

/// A webhook endpoint as `vigil webhooks list` shows it (never with its secret).
public struct WebhookEndpoint: Sendable, Hashable {
    /// The endpoint's id.
    public var id: Int64
    /// Where deliveries go.
    public var url: String
    /// The event types it receives.
    public var eventTypes: [String]
    /// The lowest severity it receives (nil: all).
    public var minSeverity: String?
    /// Whether deliveries are attempted.
    public var enabled: Bool
    /// Why it was disabled (operator, 410, continuous failure).
    public var disabledReason: String?
    /// Start of the current failing streak, if failing.
    public var failingSince: Timestamp?
    /// While set and in the future, the previous secret still signs.
    public var previousSecretUntil: Timestamp?
    /// Messages waiting (including retries), delivered, and dead.
    public var pending: Int, delivered: Int, dead: Int
}

/// One recorded delivery attempt.
public struct WebhookDeliveryRecord: Sendable, Hashable {
    /// Attempt row fields.
    public var outboxID: Int64, endpointID: Int64, alertID: Int64?, messageID: String, attempt: Int
    /// When it ran.
    public var attemptedAt: Timestamp
    /// The HTTP status, if a response came.
    public var statusCode: Int?
    /// How long it took.
    public var latencyMS: Int?
    /// What went wrong, if it failed.
    public var error: String?
    /// The message's current status: `pending`, `delivered` or `dead`.
    public var messageStatus: String
}

/// Endpoint management and replay, as the `vigil webhooks` commands use them.
/// Changes notify the dispatcher so they take effect at once.
public enum WebhookAdmin {
    /// The event types an endpoint may subscribe to (docs/webhooks.md, Schemas/webhook-*.schema.json).
    public static let knownEventTypes = ["alert.created", "case.updated", "alert.disposed"]

    /// Registers an endpoint and returns its id. The URL must be http(s); the SSRF rules
    /// themselves are applied by the dispatcher at delivery time.
    /// The secret is stored sealed under `keyring`'s current key; without a keyring it
    /// is refused (the database alone must never reveal a secret).
    public static func addEndpoint(
        url: String, secret: WebhookSecret, keyring: SecretKeyring?, minSeverity: String? = nil,
        eventTypes: [String] = [AlertEventBody.eventType], on db: PostgresConnection
    ) async throws -> Int64 {
        let sealed = try seal(secret, keyring: keyring, action: "adding a webhook endpoint")
        _ = try DestinationRules.validate(url: url)
        if let minSeverity, Severity(rawValue: minSeverity) == nil {
            throw WebhookError(code: .invalidArgument, message: "min severity '\(minSeverity)' is unknown: use one of \(Severity.names)")
        }
        guard !eventTypes.isEmpty else { throw WebhookError(code: .invalidArgument, message: "an endpoint subscribes to at least one event type") }
        if let unknown = eventTypes.first(where: { !knownEventTypes.contains($0) }) {
            throw WebhookError(
                code: .invalidArgument,
                message: "event type '\(unknown)' is unknown: use \(knownEventTypes.joined(separator: ", ")) (see docs/webhooks.md)")
        }
        let id = try await db.query(
            """
            INSERT INTO webhook_endpoints (url, secret_sealed, event_types, min_severity)
            VALUES (\(url), \(sealed), \(PostgresTextArray(eventTypes)), \(minSeverity)) RETURNING id
            """
        ).first?.decode(0, as: Int64.self)
        guard let id else { throw WebhookError(code: .notFound, message: "the endpoint was not stored") }
        try await db.notify(WebhookOutbox.channel)
        return id
    }

    /// Every endpoint with its message counts, by id.
    public static func listEndpoints(on db: PostgresConnection) async throws -> [WebhookEndpoint] {
        let rows = try await db.query(
            """
            SELECT e.id, e.url, e.event_types, e.min_severity, e.enabled, e.disabled_reason, e.failing_since,
                   e.previous_secret_until,
                   count(o.id) FILTER (WHERE o.status = 'pending'),
                   count(o.id) FILTER (WHERE o.status = 'delivered'),
                   count(o.id) FILTER (WHERE o.status = 'dead')
            FROM webhook_endpoints e LEFT JOIN webhook_outbox o ON o.endpoint_id = e.id
            GROUP BY e.id ORDER BY e.id
            """)
        return try rows.map { row in
            WebhookEndpoint(
                id: try row.decode(0), url: try row.decode(1), eventTypes: try row.decode(2, as: PostgresTextArray.self).elements,
                minSeverity: try row.decodeIfPresent(3), enabled: try row.decode(4), disabledReason: try row.decodeIfPresent(5),
                failingSince: try row.decodeIfPresent(6), previousSecretUntil: try row.decodeIfPresent(7),
                pending: try row.decode(8), delivered: try row.decode(9), dead: try row.decode(10)
            )
        }
    }

    /// Enables or disables an endpoint. Enabling clears the reason and the failing streak;
    /// its pending messages are then delivered.
    public static func setEnabled(_ id: Int64, _ enabled: Bool, reason: String? = nil, on db: PostgresConnection) async throws {
        let changed = try await db.execute(
            """
            UPDATE webhook_endpoints
               SET enabled = \(enabled), disabled_reason = CASE WHEN \(enabled) THEN NULL ELSE \(reason ?? "disabled by operator") END,
                   failing_since = CASE WHEN \(enabled) THEN NULL ELSE failing_since END, updated_at = now()
             WHERE id = \(id)
            """)
        guard changed == 1 else { throw WebhookError(code: .notFound, message: "no webhook endpoint \(id); see 'vigil webhooks list'") }
        try await db.notify(WebhookOutbox.channel)
    }

    /// Replaces the secret; the old one keeps signing (both signatures in the header) for
    /// `grace`, so consumers can switch without rejecting a delivery.
    public static func rotateSecret(_ id: Int64, to secret: WebhookSecret, keyring: SecretKeyring?, grace: Duration, on db: PostgresConnection)
        async throws
    {
        let sealed = try seal(secret, keyring: keyring, action: "rotating a webhook secret")
        let changed = try await db.execute(
            """
            UPDATE webhook_endpoints
               SET previous_secret_sealed = secret_sealed, secret_sealed = \(sealed), previous_secret = NULL, secret = NULL,
                   previous_secret_until = now() + make_interval(secs => \(grace.seconds)::float8), updated_at = now()
             WHERE id = \(id)
            """)
        guard changed == 1 else { throw WebhookError(code: .notFound, message: "no webhook endpoint \(id); see 'vigil webhooks list'") }
        try await db.notify(WebhookOutbox.channel)
    }

    /// Which attempts ``deliveries(endpoint:filter:limit:on:)`` lists.
    public enum DeliveryFilter: String, Sendable, CaseIterable {
        /// Attempts that did not get a 2xx.
        case failed
        /// Attempts of messages that are dead.
        case dead
    }

    /// The latest attempts, newest first.
    public static func deliveries(endpoint: Int64? = nil, filter: DeliveryFilter? = nil, limit: Int = 50, on db: PostgresConnection) async throws
        -> [WebhookDeliveryRecord]
    {
        let rows = try await db.query(
            """
            SELECT d.outbox_id, d.endpoint_id, o.alert_id, o.message_id, d.attempt, d.attempted_at, d.status_code,
                   d.latency_ms, d.error, o.status
            FROM webhook_deliveries d JOIN webhook_outbox o ON o.id = d.outbox_id
            WHERE (\(endpoint)::bigint IS NULL OR d.endpoint_id = \(endpoint))
              AND (\(filter?.rawValue)::text IS NULL
                   OR (\(filter?.rawValue) = 'failed' AND (d.status_code IS NULL OR d.status_code NOT BETWEEN 200 AND 299))
                   OR (\(filter?.rawValue) = 'dead' AND o.status = 'dead'))
            ORDER BY d.attempted_at DESC, d.id DESC LIMIT \(max(1, limit))
            """)
        return try rows.map { row in
            WebhookDeliveryRecord(
                outboxID: try row.decode(0), endpointID: try row.decode(1), alertID: try row.decodeIfPresent(2), messageID: try row.decode(3),
                attempt: try row.decode(4), attemptedAt: try row.decode(5), statusCode: try row.decodeIfPresent(6),
                latencyMS: try row.decodeIfPresent(7), error: try row.decodeIfPresent(8), messageStatus: try row.decode(9)
            )
        }
    }
}
