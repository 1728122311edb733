import ArgumentParser
import Foundation
import PostgresStore

/// `vigil migrate`: applies the pending numbered migrations in `Schemas/`.
struct MigrateCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "migrate",
        abstract: "Apply pending schema migrations from Schemas/ (a no-op when up to date).",
        discussion: """
            Connects with DATABASE_URL, or the standard PG* variables (PGHOST, PGPORT, PGUSER, \
            PGPASSWORD, PGDATABASE) when it is unset. Each migration runs in its own transaction \
            and is recorded in schema_versions; concurrent runs serialize on an advisory lock.
            """
    )

    @Option(help: "Folder of NNNN_name.sql migration files (env VIGIL_SCHEMAS).")
    var schemas: String = ProcessInfo.processInfo.environment["VIGIL_SCHEMAS"] ?? "Schemas"

    func run() async throws {
        do {
            let migrator = Migrator(directory: URL(fileURLWithPath: schemas))
            let report = try await PostgresConnection.withConnection(.fromEnvironment(applicationName: "vigil-migrate")) { connection in
                try await migrator.migrate(on: connection)
            }
            if report.applied.isEmpty {
                print("schema is up to date (\(report.alreadyApplied) migrations applied); nothing to do")
            } else {
                for migration in report.applied {
                    print("applied \(String(format: "%04d", migration.version))_\(migration.name)")
                }
                print("schema is up to date (\(report.alreadyApplied + report.applied.count) migrations applied)")
            }
        } catch let error as PostgresError {
            throw CleanExit.failure("vigil migrate: \(error)")
        }
    }
}
