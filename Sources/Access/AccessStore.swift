import PostgresStore

/// The HTTP layer's one connection for tokens and the audit log, opened on first use and
/// reopened after a failure (PostgreSQL restarted).
///
/// No cache: every request looks its token's digest up (one indexed read), so a revoked
/// token is refused from the very next request. Ops traffic is small; the investigator API
/// can add a cache here, invalidated by NOTIFY, if it ever needs one.
public actor AccessStore {
    private let configuration: PostgresConfiguration
    private var connection: PostgresConnection?

    /// Creates a store that connects with `configuration` when first asked.
    public init(database: PostgresConfiguration) {
        var configuration = database
        configuration.applicationName = "vigil-access"
        self.configuration = configuration
    }

    /// Runs `body` on the connection; a connection error drops it so the next call reconnects.
    public func withConnection<T: Sendable>(_ body: (PostgresConnection) async throws -> T) async throws -> T {
        let db: PostgresConnection
        if let connection {
            db = connection
        } else {
            db = try await PostgresConnection.connect(configuration)
            connection = db
        }
        do {
            return try await body(db)
        } catch let error as PostgresError where error.isConnectionError {
            await db.close()
            connection = nil
            throw error
        }
    }

    /// Checks a presented token (see ``TokenStore/verify(_:on:)``).
    public func verify(_ token: APIToken) async throws -> TokenStore.Verification {
        try await withConnection { try await TokenStore.verify(token, on: $0) }
    }

    /// Writes one audit entry in its own transaction (an action done outside the database,
    /// such as a rule reload, recorded after it).
    public func record(_ action: String, target: String?, detail: String, by actor: Actor) async throws {
        try await withConnection { db in
            try await db.transaction { try AuditLog.record(action, target: target, detail: detail, by: actor, on: $0) }
        }
    }

    /// Closes the connection.
    public func close() async {
        await connection?.close()
        connection = nil
    }
}
