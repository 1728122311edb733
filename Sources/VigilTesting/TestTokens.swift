import Access
import PostgresStore

/// API tokens for tests that call the HTTP endpoints, created as `vigil tokens create` does.
public enum TestTokens {
    /// Creates a token with `role` (named after the role unless `name` is given) and returns
    /// its text, for `Authorization: Bearer`.
    public static func create(_ role: Role, name: String? = nil, in database: PostgresConfiguration) async throws -> String {
        try await PostgresConnection.withConnection(database) { db in
            try await TokenStore.create(name: name ?? "test-\(role)", role: role, expiresAt: nil, by: Actor(name: "test"), on: db).text
        }
    }
}
