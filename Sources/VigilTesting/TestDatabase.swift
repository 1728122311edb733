import Foundation
import PostgresStore

/// A throwaway database per test, created on the server that `DATABASE_URL` or the
/// `PG*` variables name. No server is a test failure, never a skip: `make test`
/// starts one, and a database test that silently skipped would prove nothing.
public enum TestDatabase {
    /// The repository's root folder (for `Schemas/` and `Rules/`).
    public static let repositoryRoot = URL(fileURLWithPath: #filePath)
        .deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent()

    /// The repository's `Schemas/` folder: the migrations `vigil migrate` applies.
    public static let schemasDirectory = repositoryRoot.appendingPathComponent("Schemas")

    /// Creates an empty database, runs `body` with a configuration that points at it
    /// (connecting as `applicationName`), then drops it, whether `body` throws or not.
    public static func with<T: Sendable>(
        applicationName: String = "vigil-tests",
        _ body: (PostgresConfiguration) async throws -> T
    ) async throws -> T {
        let name = "vigil_test_\(UInt64.random(in: 0...UInt64.max) % 1_000_000_000_000)"
        guard let identifier = PostgresIdentifier(name) else {
            throw PostgresError(code: .misuse, message: "cannot name a test database \(name); TestDatabase must make valid identifiers")
        }
        return try await PostgresConnection.withConnection(.fromEnvironment(applicationName: "vigil-tests")) { admin in
            try await admin.execute("CREATE DATABASE \(identifier: identifier)")
            var configuration = PostgresConfiguration.fromEnvironment(applicationName: applicationName)
            configuration.databaseName = name
            do {
                let value = try await body(configuration)
                try await admin.execute("DROP DATABASE \(identifier: identifier) WITH (FORCE)")
                return value
            } catch {
                _ = try? await admin.execute("DROP DATABASE \(identifier: identifier) WITH (FORCE)")
                throw error
            }
        }
    }

    /// A fresh database with every migration in `Schemas/` applied.
    public static func withMigrated<T: Sendable>(
        applicationName: String = "vigil-tests",
        _ body: (PostgresConfiguration) async throws -> T
    ) async throws -> T {
        try await with(applicationName: applicationName) { configuration in
            try await PostgresConnection.withConnection(configuration) { connection in
                _ = try await Migrator(directory: schemasDirectory).migrate(on: connection)
            }
            return try await body(configuration)
        }
    }
}
