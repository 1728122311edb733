import Access
import Crypto
import Foundation
import PostgresStore
import VigilCore

/// Console sign-in sessions (`console_sessions`): an API token exchanged once for a random
/// session id the browser keeps in a cookie; only the id's digest is stored.
///
/// A session is valid while it has not expired and the token it came from is still valid
/// (not revoked, not expired): checked by one join on every request, like a token.
public enum ConsoleSessions {
    /// A new session's id (shown once, in the cookie) and when it ends.
    public struct Opened: Sendable {
        /// The session id: `vcs_` + 32 random bytes, base64url.
        public var id: String
        /// When it expires (the sooner of the console's lifetime and the token's expiry).
        public var expiresAt: Timestamp
    }

    /// What a presented session id is.
    public enum Verification: Sendable, Equatable {
        case valid(name: String, role: Role)
        /// Unknown, expired, signed out, or its token was revoked or expired.
        case invalid
    }

    /// Opens a session for a token that has just been verified, and records the sign-in
    /// in the audit log in the same transaction. Expired sessions are cleared first.
    public static func open(
        token: APIToken, lifetime: Duration, by actor: Actor, on db: PostgresConnection
    ) async throws -> Opened? {
        let id = "vcs_" + randomText()
        let digest = APIToken.digest(of: id)
        let tokenDigest = token.digest
        let seconds = Int(lifetime.components.seconds)
        let expires = try await db.transaction { db -> Timestamp? in
            _ = try db.execute("DELETE FROM console_sessions WHERE expires_at <= now()")
            // Never longer than the token itself lives.
            let rows = try db.query(
                """
                INSERT INTO console_sessions (digest, token_digest, expires_at, remote_address)
                SELECT \(digest), t.digest, LEAST(now() + make_interval(secs => \(seconds)), COALESCE(t.expires_at, 'infinity')), \(actor.remoteAddress)
                FROM api_tokens t
                WHERE t.digest = \(tokenDigest) AND t.revoked_at IS NULL AND (t.expires_at IS NULL OR t.expires_at > now())
                RETURNING expires_at
                """)
            guard let row = rows.first else { return nil }
            try AuditLog.record("console.sign_in", target: actor.name, detail: "{}", by: actor, on: db)
            return try row.decode(0, as: Timestamp.self)
        }
        return expires.map { Opened(id: id, expiresAt: $0) }
    }

    /// The token name and role behind a session id, when the session and its token are valid now.
    public static func verify(_ sessionID: String, on db: PostgresConnection) async throws -> Verification {
        let digest = APIToken.digest(of: sessionID)
        let rows = try await db.query(
            """
            SELECT s.digest, t.name, t.role FROM console_sessions s JOIN api_tokens t ON t.digest = s.token_digest
            WHERE s.digest = \(digest) AND s.expires_at > now()
              AND t.revoked_at IS NULL AND (t.expires_at IS NULL OR t.expires_at > now())
            """)
        guard let row = rows.first, APIToken.digestsEqual(try row.decode(0), digest) else { return .invalid }
        guard let role = Role(rawValue: try row.decode(2)) else { return .invalid }
        return .valid(name: try row.decode(1), role: role)
    }

    /// Ends a session (sign-out) and records it; nothing happens for an unknown id.
    public static func close(_ sessionID: String, by actor: Actor, on db: PostgresConnection) async throws {
        let digest = APIToken.digest(of: sessionID)
        try await db.transaction { db in
            if try db.execute("DELETE FROM console_sessions WHERE digest = \(digest)") == 1 {
                try AuditLog.record("console.sign_out", target: actor.name, detail: "{}", by: actor, on: db)
            }
        }
    }

    /// The synchronizer token every console form carries: derived from the session id, so
    /// it is tied to the session, changes with it, and cannot be computed without the
    /// cookie (which a page on another site cannot read).
    public static func csrfToken(forSessionID sessionID: String) -> String {
        base64URL(Array(SHA256.hash(data: Data(("vigil-console-csrf\u{0}" + sessionID).utf8))))
    }

    static func randomText() -> String {
        var generator = SystemRandomNumberGenerator()
        return base64URL((0..<32).map { _ in UInt8.random(in: .min ... .max, using: &generator) })
    }

    static func base64URL(_ bytes: [UInt8]) -> String {
        Data(bytes).base64EncodedString()
            .replacingOccurrences(of: "+", with: "-")
            .replacingOccurrences(of: "/", with: "_")
            .replacingOccurrences(of: "=", with: "")
    }
}
