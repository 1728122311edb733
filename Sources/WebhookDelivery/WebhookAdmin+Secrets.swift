import PostgresStore
import Secrets

extension WebhookAdmin {
    /// Where signing secrets are sealed: the associated data of every sealed value, so a
    /// value copied into another table or column does not open.
    static let secretContext = "webhook_endpoints.secret"

    /// `secret` sealed under the keyring's current key; refused without a keyring.
    static func seal(_ secret: WebhookSecret, keyring: SecretKeyring?, action: String) throws -> String {
        guard let keyring else { throw WebhookError(code: .secretKey, message: SecretsError.noKey(for: action).message) }
        do {
            return try keyring.seal(secret.text, context: secretContext)
        } catch {
            throw WebhookError(code: .secretKey, message: error.message)
        }
    }

    /// Opens a sealed signing secret.
    static func open(_ sealed: String, keyring: SecretKeyring) throws -> WebhookSecret {
        do {
            return try WebhookSecret(keyring.open(sealed, context: secretContext))
        } catch let error as SecretsError {
            throw WebhookError(code: .secretKey, message: error.message)
        }
    }

    /// Endpoints whose signing secret (current or previous) is still stored in plaintext
    /// (added before migration 0010); `vigil serve` refuses to start while there are any.
    public static func plaintextSecretCount(on db: PostgresConnection) async throws -> Int {
        try await db.query(
            """
            SELECT count(*) FROM webhook_endpoints WHERE secret IS NOT NULL OR previous_secret IS NOT NULL
            """
        ).first?.decode(0, as: Int.self) ?? 0
    }

    /// Seals every plaintext secret under the keyring's current key and erases the
    /// plaintext, in one transaction; returns the endpoints changed.
    public static func encryptExisting(keyring: SecretKeyring, on db: PostgresConnection) async throws -> Int {
        try await db.transaction { db in
            let rows = try db.query(
                """
                SELECT id, secret, previous_secret FROM webhook_endpoints
                 WHERE secret IS NOT NULL OR previous_secret IS NOT NULL ORDER BY id FOR UPDATE
                """)
            var changed = 0
            for row in rows {
                let id = try row.decode(0, as: Int64.self)
                let current = try row.decodeIfPresent(1, as: String.self).map {
                    try seal(try WebhookSecret($0), keyring: keyring, action: "encrypting secrets")
                }
                let previous = try row.decodeIfPresent(2, as: String.self).map {
                    try seal(try WebhookSecret($0), keyring: keyring, action: "encrypting secrets")
                }
                changed += try db.execute(
                    """
                    UPDATE webhook_endpoints
                       SET secret_sealed = COALESCE(\(current), secret_sealed), previous_secret_sealed = COALESCE(\(previous), previous_secret_sealed),
                           secret = NULL, previous_secret = NULL, updated_at = now()
                     WHERE id = \(id)
                    """)
            }
            return changed
        }
    }

    /// Re-seals every secret under `newKey` in one transaction (all or nothing); values
    /// are opened with any key of `keyring`. Returns the endpoints re-sealed. Deliveries
    /// go on with the same signing secrets: consumers notice nothing.
    public static func rotateKey(from keyring: SecretKeyring, to newKey: SecretKey, on db: PostgresConnection) async throws -> Int {
        let target = SecretKeyring(current: newKey)
        return try await db.transaction { db in
            let rows = try db.query(
                """
                SELECT id, secret_sealed, previous_secret_sealed FROM webhook_endpoints
                 WHERE secret_sealed IS NOT NULL OR previous_secret_sealed IS NOT NULL ORDER BY id FOR UPDATE
                """)
            var changed = 0
            for row in rows {
                let id = try row.decode(0, as: Int64.self)
                let current = try row.decodeIfPresent(1, as: String.self).map { try reseal($0, from: keyring, to: target, endpoint: id) }
                let previous = try row.decodeIfPresent(2, as: String.self).map { try reseal($0, from: keyring, to: target, endpoint: id) }
                changed += try db.execute(
                    """
                    UPDATE webhook_endpoints SET secret_sealed = \(current), previous_secret_sealed = \(previous), updated_at = now()
                     WHERE id = \(id)
                    """)
            }
            try db.notify(WebhookOutbox.channel)
            return changed
        }
    }

    private static func reseal(_ sealed: String, from keyring: SecretKeyring, to target: SecretKeyring, endpoint: Int64) throws -> String {
        do {
            return try target.seal(keyring.open(sealed, context: secretContext), context: secretContext)
        } catch {
            throw WebhookError(code: .secretKey, message: "webhook endpoint \(endpoint): \(error.message); nothing was changed")
        }
    }
}
