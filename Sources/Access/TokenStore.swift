import PostgresStore
import VigilCore

/// A stored token as `vigil tokens list` shows it: never the token, never its digest.
public struct TokenRecord: Sendable, Equatable {
    /// The name given at creation.
    public var name: String
    /// What it may do.
    public var role: Role
    /// When it was created, expires (nil: never), was revoked and last authenticated a request.
    public var createdAt: Timestamp
    public var expiresAt: Timestamp?
    public var revokedAt: Timestamp?
    public var lastUsedAt: Timestamp?
}

/// Creates, lists, revokes and looks up API tokens (`api_tokens`); each change is audited
/// in the same transaction.
public enum TokenStore {
    /// Creates a token and returns it: the only time its text exists outside the caller.
    public static func create(
        name: String, role: Role, expiresAt: Timestamp?, by actor: Actor, on db: PostgresConnection
    ) async throws -> APIToken {
        guard !name.isEmpty, name.count <= 100, name.allSatisfy({ $0.isLetter || $0.isNumber || "-_.:@".contains($0) }) else {
            throw AccessError(
                .invalidName, "token name '\(name)' is not valid: use 1 to 100 letters, digits and - _ . : @ (e.g. prometheus-scraper)")
        }
        let token = APIToken.generate()
        let digest = token.digest
        let expires = expiresAt.map { RFC3339.format($0) }
        let inserted = try await db.transaction { db -> Bool in
            let rows = try db.query(
                """
                INSERT INTO api_tokens (name, role, digest, expires_at) VALUES (\(name), \(role.rawValue), \(digest), \(expires)::timestamptz)
                ON CONFLICT (name) WHERE revoked_at IS NULL DO NOTHING RETURNING id
                """)
            guard rows.count == 1 else { return false }
            try AuditLog.record(
                "token.create", target: name,
                detail: "{\"role\":\(JSONText.quoted(role.rawValue)),\"expires_at\":\(expires.map(JSONText.quoted) ?? "null")}",
                by: actor, on: db)
            return true
        }
        guard inserted else {
            throw AccessError(
                .nameTaken,
                "a token named '\(name)' exists and is not revoked; revoke it first ('vigil tokens revoke \(name)') or choose another name")
        }
        return token
    }

    /// Every token, newest first (revoked ones too, marked).
    public static func list(on db: PostgresConnection) async throws -> [TokenRecord] {
        let rows = try await db.query(
            "SELECT name, role, created_at, expires_at, revoked_at, last_used_at FROM api_tokens ORDER BY created_at DESC, id DESC")
        return try rows.map { row in
            TokenRecord(
                name: try row.decode(0), role: Role(rawValue: try row.decode(1)) ?? .viewer, createdAt: try row.decode(2),
                expiresAt: try row.decodeIfPresent(3), revokedAt: try row.decodeIfPresent(4), lastUsedAt: try row.decodeIfPresent(5))
        }
    }

    /// The LISTEN channel a revocation is announced on (payload: the token's name).
    public static let revocationChannel = "vigil_tokens"

    /// Revokes the active token with this name; effective for the next request (each
    /// request looks its token up, see ``TokenVerifier``).
    public static func revoke(name: String, by actor: Actor, on db: PostgresConnection) async throws {
        let revoked = try await db.transaction { db -> Bool in
            let changed = try db.execute("UPDATE api_tokens SET revoked_at = now() WHERE name = \(name) AND revoked_at IS NULL")
            guard changed == 1 else { return false }
            try AuditLog.record("token.revoke", target: name, by: actor, on: db)
            // Streams the token opened are ended by the server that serves them (at commit).
            _ = try db.query("SELECT pg_notify(\(TokenStore.revocationChannel), \(name))")
            return true
        }
        guard revoked else {
            throw AccessError(.noSuchToken, "no active token named '\(name)'; 'vigil tokens list' shows the tokens and which are revoked")
        }
    }

    /// The token's record when it is valid now (exists, not revoked, not expired), else the
    /// reason it is not. Marks it used (at most once a minute, to keep reads cheap).
    public static func verify(_ token: APIToken, on db: PostgresConnection) async throws -> Verification {
        let digest = token.digest
        let rows = try await db.query(
            """
            SELECT name, role, digest, revoked_at IS NOT NULL, expires_at IS NOT NULL AND expires_at <= now(),
                   last_used_at IS NULL OR last_used_at < now() - interval '1 minute'
            FROM api_tokens WHERE digest = \(digest)
            """)
        // The row is found by its digest, which an attacker cannot steer byte by byte;
        // the comparison that decides is constant-time all the same.
        guard let row = rows.first, APIToken.digestsEqual(try row.decode(2), digest) else { return .unknown }
        let name: String = try row.decode(0)
        if try row.decode(3, as: Bool.self) { return .revoked(name: name) }
        if try row.decode(4, as: Bool.self) { return .expired(name: name) }
        guard let role = Role(rawValue: try row.decode(1)) else { return .unknown }
        if try row.decode(5, as: Bool.self) {
            _ = try await db.execute("UPDATE api_tokens SET last_used_at = now() WHERE digest = \(digest)")
        }
        return .valid(name: name, role: role)
    }

    /// What a presented token is.
    public enum Verification: Sendable, Equatable {
        case valid(name: String, role: Role)
        case unknown
        case revoked(name: String)
        case expired(name: String)
    }
}
