import PostgresStore
import VigilCore

/// One row of the audit log: who did what, to what, when, from where.
public struct AuditEntry: Sendable, Equatable {
    /// The row id (increasing).
    public var id: Int64
    /// When (UTC).
    public var at: Timestamp
    /// A token's name, or `cli:<user>` for a command run on the host.
    public var actor: String
    /// What was done, `area.verb`: `rules.reload`, `token.create`, `secrets.rotate_key`, ...
    public var action: String
    /// What it was done to (a token name, an endpoint id), when it applies.
    public var target: String?
    /// The outcome and parameters, a JSON object.
    public var detail: String
    /// The client's address for HTTP requests; nil for the CLI.
    public var remoteAddress: String?
}

/// Who is acting, as the audit log records it.
public struct Actor: Sendable, Equatable {
    /// `token-name` or `cli:<user>`.
    public var name: String
    /// The client's address, for HTTP.
    public var remoteAddress: String?

    /// Creates an actor.
    public init(name: String, remoteAddress: String? = nil) {
        self.name = name
        self.remoteAddress = remoteAddress
    }

    /// The user running a CLI command (`cli:$USER`).
    public static func commandLine(user: String?) -> Actor {
        Actor(name: "cli:" + ((user?.isEmpty == false ? user : nil) ?? "unknown"))
    }
}

/// The one way an action is written to the audit log and read back; every admin action,
/// HTTP or CLI, goes through here (so later features such as case changes reuse it).
public enum AuditLog {
    /// Writes one entry. Call it inside the transaction that does the action, so the action
    /// and its record commit together. `detail` is a JSON object.
    public static func record(
        _ action: String, target: String?, detail: String = "{}", by actor: Actor, on db: isolated PostgresConnection
    ) throws {
        try db.execute(
            """
            INSERT INTO audit_log (actor, action, target, detail, remote_address)
            VALUES (\(actor.name), \(action), \(target), \(PostgresJSON(detail))::jsonb, \(actor.remoteAddress))
            """)
    }

    /// Entries at or after `since` (all when nil), newest last, at most `limit` (the newest).
    public static func entries(since: Timestamp?, limit: Int, on db: PostgresConnection) async throws -> [AuditEntry] {
        let rows = try await db.query(
            """
            SELECT id, at, actor, action, target, detail::text, remote_address FROM (
              SELECT * FROM audit_log WHERE \(since)::timestamptz IS NULL OR at >= \(since)::timestamptz ORDER BY id DESC LIMIT \(limit)
            ) newest ORDER BY id
            """)
        return try rows.map { row in
            AuditEntry(
                id: try row.decode(0), at: try row.decode(1), actor: try row.decode(2), action: try row.decode(3),
                target: try row.decodeIfPresent(4), detail: try row.decode(5), remoteAddress: try row.decodeIfPresent(6))
        }
    }
}
