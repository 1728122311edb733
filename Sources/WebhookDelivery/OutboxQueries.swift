import PostgresStore
import Secrets
import VigilCore

/// An outbox row claimed for one attempt.
struct ClaimedMessage: Sendable, Hashable {
    var outboxID: Int64
    var messageID: String
    /// The alert the event is about; nil for a case event (`case.updated`).
    var alertID: Int64?
    var body: String
    /// This attempt's number (1-based), already counted in the row.
    var attempt: Int
    var createdAt: Timestamp
}

/// An enabled endpoint as the dispatcher needs it.
struct EndpointSnapshot: Sendable, Hashable {
    var id: Int64
    var url: String
    /// The current secret first, then the previous one while its grace period lasts,
    /// each sealed (see `SecretKeyring`); opened only at delivery.
    var sealedSecrets: [String]
    /// A secret is still in plaintext (added before migration 0010): not delivered to
    /// until `vigil secrets encrypt-existing` has run.
    var hasPlaintextSecret: Bool
}

/// The dispatcher's SQL, each function one short statement or transaction.
enum OutboxQueries {
    static func enabledEndpoints(on db: isolated PostgresConnection) throws -> [EndpointSnapshot] {
        let rows = try db.query(
            """
            SELECT id, url, secret_sealed,
                   CASE WHEN previous_secret_until > now() THEN previous_secret_sealed END,
                   secret IS NOT NULL OR previous_secret IS NOT NULL
            FROM webhook_endpoints WHERE enabled ORDER BY id
            """)
        return try rows.map { row in
            var secrets: [String] = []
            if let current = try row.decodeIfPresent(2, as: String.self) { secrets.append(current) }
            if let previous = try row.decodeIfPresent(3, as: String.self) { secrets.append(previous) }
            return EndpointSnapshot(id: try row.decode(0), url: try row.decode(1), sealedSecrets: secrets, hasPlaintextSecret: try row.decode(4))
        }
    }

    /// Claims up to `limit` due messages of one endpoint by leasing them: `next_attempt_at`
    /// moves `lease` into the future and the attempt is counted. A process that dies
    /// mid-delivery leaves the row pending, due again when the lease ends.
    static func claim(endpointID: Int64, limit: Int, lease: Duration, on db: isolated PostgresConnection) throws -> [ClaimedMessage] {
        let rows = try db.query(
            """
            UPDATE webhook_outbox o
               SET next_attempt_at = now() + make_interval(secs => \(lease.seconds)::float8), attempts = o.attempts + 1
              FROM (SELECT id FROM webhook_outbox
                     WHERE endpoint_id = \(endpointID) AND status = 'pending' AND next_attempt_at <= now()
                     ORDER BY next_attempt_at, id LIMIT \(limit) FOR UPDATE SKIP LOCKED) due
             WHERE o.id = due.id
            RETURNING o.id, o.message_id, o.alert_id, o.payload::text, o.attempts, o.created_at
            """)
        return try rows.map { row in
            ClaimedMessage(
                outboxID: try row.decode(0), messageID: try row.decode(1), alertID: try row.decodeIfPresent(2),
                body: try row.decode(3), attempt: try row.decode(4), createdAt: try row.decode(5)
            )
        }
    }

    /// Seconds until the endpoint's earliest pending message is due (negative: overdue),
    /// nil when it has none.
    static func secondsUntilNextDue(endpointID: Int64, on db: isolated PostgresConnection) throws -> Double? {
        try db.query(
            """
            SELECT EXTRACT(EPOCH FROM (min(next_attempt_at) - now()))::float8
            FROM webhook_outbox WHERE endpoint_id = \(endpointID) AND status = 'pending'
            """
        ).first?.decodeIfPresent(0, as: Double.self)
    }

    /// Records one attempt and applies the policy's decision, in one transaction.
    static func record(
        _ message: ClaimedMessage, endpointID: Int64, outcome: DeliveryOutcome, latencyMS: Int,
        policy: DeliveryPolicy, jitterUnit: Double, on db: isolated PostgresConnection
    ) throws -> DeliveryPolicy.Decision {
        try db.transaction { db in
            try db.execute(
                """
                INSERT INTO webhook_deliveries (outbox_id, endpoint_id, attempt, status_code, latency_ms, error)
                VALUES (\(message.outboxID), \(endpointID), \(message.attempt), \(outcome.statusCode), \(latencyMS), \(outcome.errorText))
                """)
            var failingFor = Duration.zero
            if outcome.isSuccess {
                try db.execute("UPDATE webhook_endpoints SET failing_since = NULL WHERE id = \(endpointID) AND failing_since IS NOT NULL")
            } else {
                let seconds =
                    try db.query(
                        """
                        UPDATE webhook_endpoints SET failing_since = COALESCE(failing_since, now())
                        WHERE id = \(endpointID) RETURNING EXTRACT(EPOCH FROM now() - failing_since)::float8
                        """
                    ).first?.decodeIfPresent(0, as: Double.self) ?? 0
                failingFor = .milliseconds(Int64(max(0, seconds) * 1000))
            }
            let decision = policy.decide(attempt: message.attempt, outcome: outcome, failingFor: failingFor, jitterUnit: jitterUnit)
            switch decision.message {
            case .delivered:
                try db.execute(
                    """
                    UPDATE webhook_outbox SET status = 'delivered', delivered_at = now(), last_error = NULL
                    WHERE id = \(message.outboxID)
                    """)
            case .retry(let delay):
                try db.execute(
                    """
                    UPDATE webhook_outbox SET next_attempt_at = now() + make_interval(secs => \(delay.seconds)::float8),
                           last_error = \(outcome.errorText)
                    WHERE id = \(message.outboxID) AND status = 'pending'
                    """)
            case .dead:
                try db.execute(
                    """
                    UPDATE webhook_outbox SET status = 'dead', last_error = \(outcome.errorText)
                    WHERE id = \(message.outboxID) AND status = 'pending'
                    """)
            }
            if case .disable(let reason) = decision.endpoint {
                try db.execute(
                    """
                    UPDATE webhook_endpoints SET enabled = false, disabled_reason = \(reason), updated_at = now()
                    WHERE id = \(endpointID) AND enabled
                    """)
            }
            return decision
        }
    }
}

extension Duration {
    /// The duration in seconds as a Double (for SQL intervals and metrics).
    var seconds: Double {
        Double(components.seconds) + Double(components.attoseconds) / 1e18
    }
}

extension EndpointSnapshot {
    /// The signing secrets, opened; the error (recorded with the refused attempt) says
    /// what the operator must do.
    func openSecrets(keyring: SecretKeyring?) -> Result<[WebhookSecret], WebhookError> {
        if hasPlaintextSecret {
            return .failure(
                WebhookError(code: .secretKey, message: "the endpoint's secret is still stored in plaintext; run 'vigil secrets encrypt-existing'"))
        }
        guard let keyring else {
            return .failure(WebhookError(code: .secretKey, message: SecretsError.noKey(for: "signing a webhook").message))
        }
        guard !sealedSecrets.isEmpty else {
            return .failure(
                WebhookError(code: .invalidSecret, message: "the endpoint has no signing secret; rotate it with 'vigil webhooks rotate-secret'"))
        }
        do {
            return .success(try sealedSecrets.map { try WebhookAdmin.open($0, keyring: keyring) })
        } catch let error as WebhookError {
            return .failure(error)
        } catch {
            return .failure(WebhookError(code: .invalidSecret, message: "the endpoint's secret is not a valid whsec_ secret; rotate it"))
        }
    }
}
