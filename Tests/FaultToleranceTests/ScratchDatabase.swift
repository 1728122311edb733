import Foundation
import PostgresStore

/// A throwaway database on the server `make test` started (pg_virtualenv's PG*
/// variables, or DATABASE_URL), migrated by `vigil migrate`, dropped at the end. No
/// reachable server is a test failure, not a skip.
struct ScratchDatabase: Sendable {
    let name: String
    let folder: URL
    /// A server of the test's own (which it may stop), instead of the run's shared one.
    var cluster: PrivateCluster? = nil

    /// Where the child processes and the test's own queries connect.
    var configuration: PostgresConfiguration {
        var configuration = Self.adminConfiguration(cluster)
        configuration.databaseName = name
        return configuration
    }

    /// The shared server of the run, or `cluster`.
    static func adminConfiguration(_ cluster: PrivateCluster?) -> PostgresConfiguration {
        guard let cluster else { return .fromEnvironment(applicationName: "vigil-fault-tests") }
        return PostgresConfiguration(
            connectionString: "host=\(cluster.socketDirectory) port=5432 user=postgres dbname=postgres",
            applicationName: "vigil-fault-tests")
    }

    /// Points a child's environment at this database.
    func apply(to env: inout [String: String]) {
        env["PGDATABASE"] = name
        if let cluster {
            env.removeValue(forKey: "DATABASE_URL")
            for (key, value) in cluster.environment { env[key] = value }
            return
        }
        if let url = env["DATABASE_URL"], !url.isEmpty {
            if var components = URLComponents(string: url), components.scheme?.hasPrefix("postgres") == true {
                components.path = "/" + name
                env["DATABASE_URL"] = components.string
            } else {
                env["DATABASE_URL"] = url + " dbname=\(name)"
            }
        }
    }

    /// Creates, migrates (through the binary), runs `body`, drops.
    static func with<T: Sendable>(_ label: String, cluster: PrivateCluster? = nil, _ body: (ScratchDatabase) async throws -> T) async throws -> T {
        let name = "vigil_fault_\(label)_\(UInt64.random(in: 0...UInt64.max) % 1_000_000_000)"
        guard let identifier = PostgresIdentifier(name) else { throw FaultTestError("bad database name \(name)") }
        return try await PostgresConnection.withConnection(adminConfiguration(cluster)) { admin in
            try await admin.execute("CREATE DATABASE \(identifier: identifier)")
            let folder = FileManager.default.temporaryDirectory.appendingPathComponent(name)
            try FileManager.default.createDirectory(at: folder, withIntermediateDirectories: true)
            let database = ScratchDatabase(name: name, folder: folder, cluster: cluster)
            do {
                try await VigilProcess.run(["migrate"], database: database, in: folder)
                let value = try await body(database)
                _ = try? await admin.execute("DROP DATABASE \(identifier: identifier) WITH (FORCE)")
                try? FileManager.default.removeItem(at: folder)
                return value
            } catch {
                _ = try? await admin.execute("DROP DATABASE \(identifier: identifier) WITH (FORCE)")
                // The folder (server logs, feed) stays for the post-mortem.
                throw error
            }
        }
    }

    /// A new connection to this database (for the test's checks).
    func connect() async throws -> PostgresConnection {
        try await PostgresConnection.connect(configuration)
    }

    /// One integer from a query on a fresh connection.
    func count(_ query: PostgresQuery) async throws -> Int {
        try await PostgresConnection.withConnection(configuration) { db in
            try await db.query(query).first?.decode(0, as: Int.self) ?? -1
        }
    }

    /// One text column from a query on a fresh connection.
    func strings(_ query: PostgresQuery) async throws -> [String] {
        try await PostgresConnection.withConnection(configuration) { db in
            try await db.query(query).map { try $0.decode(0, as: String.self) }
        }
    }
}
