import Foundation
import PostgresStore

/// A throwaway database per test, created on the server that `DATABASE_URL` or the
/// `PG*` variables name. No server is a test failure, never a skip: `make test`
/// starts one, and a database test that silently skipped would prove nothing.
enum TestDatabase {
    static let schemasDirectory = URL(fileURLWithPath: #filePath)
        .deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent()
        .appendingPathComponent("Schemas")

    /// Creates an empty database, runs `body` with a configuration that points at it,
    /// then drops it.
    static func with<T: Sendable>(_ body: (PostgresConfiguration) async throws -> T) async throws -> T {
        let admin = try await PostgresConnection.connect(.fromEnvironment(applicationName: "vigil-tests"))
        let name = "vigil_test_\(UInt64.random(in: 0...UInt64.max) % 1_000_000_000_000)"
        guard let identifier = PostgresIdentifier(name) else { throw PostgresError(code: .misuse, message: "bad name") }
        try await admin.execute("CREATE DATABASE \(identifier: identifier)")
        var configuration = PostgresConfiguration.fromEnvironment(applicationName: "vigil-tests")
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

    /// A fresh database with every migration applied.
    static func withMigrated<T: Sendable>(_ body: (PostgresConfiguration) async throws -> T) async throws -> T {
        try await with { configuration in
            let connection = try await PostgresConnection.connect(configuration)
            _ = try await Migrator(directory: schemasDirectory).migrate(on: connection)
            await connection.close()
            return try await body(configuration)
        }
    }
}
