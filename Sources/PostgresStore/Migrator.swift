import Foundation

/// One numbered SQL migration file from `Schemas/` (`0001_initial.sql`).
public struct Migration: Sendable, Hashable {
    /// The number before the first underscore.
    public var version: Int
    /// The file name without its number and extension.
    public var name: String
    /// The SQL text.
    public var sql: String
}

/// What `Migrator.migrate` did.
public struct MigrationReport: Sendable {
    /// Migrations applied by this run, in order.
    public var applied: [Migration]
    /// How many were already applied before this run.
    public var alreadyApplied: Int
}

/// Applies the numbered migrations in `Schemas/` in order, each in its own transaction,
/// recording them in `schema_versions`.
///
/// Two migrators at once serialize on a PostgreSQL advisory lock, so a migration is
/// never applied twice. An applied migration whose file changed or vanished, or a new
/// file numbered below one already applied, is refused: the history is corrupt and a
/// person has to decide.
public struct Migrator: Sendable {
    /// The folder holding the `NNNN_name.sql` files.
    public var directory: URL
    /// The advisory-lock key shared by every `vigil migrate` ("VIGIL" in ASCII).
    static let lockKey: Int64 = 0x5649_4749_4C

    /// Creates a migrator for a folder of migration files.
    public init(directory: URL) {
        self.directory = directory
    }

    /// Reads and orders the migration files; throws on a malformed or duplicate number.
    public func loadMigrations() throws -> [Migration] {
        let names: [String]
        do {
            names = try FileManager.default.contentsOfDirectory(atPath: directory.path)
        } catch {
            throw PostgresError(
                code: .migration, message: "cannot read the migrations folder \(directory.path): \(error.localizedDescription)",
                hint: "run from the repository root or pass --schemas PATH")
        }
        var migrations: [Migration] = []
        for file in names where file.hasSuffix(".sql") {
            let stem = String(file.dropLast(4))
            guard let underscore = stem.firstIndex(of: "_"), let version = Int(stem[..<underscore]), version > 0 else {
                throw PostgresError(code: .migration, message: "migration file \(file) is not named NNNN_description.sql")
            }
            let url = directory.appendingPathComponent(file)
            guard let data = FileManager.default.contents(atPath: url.path), let sql = String(data: data, encoding: .utf8) else {
                throw PostgresError(code: .migration, message: "cannot read migration file \(url.path) as UTF-8")
            }
            migrations.append(Migration(version: version, name: String(stem[stem.index(after: underscore)...]), sql: sql))
        }
        migrations.sort { $0.version < $1.version }
        for (a, b) in zip(migrations, migrations.dropFirst()) where a.version == b.version {
            throw PostgresError(code: .migration, message: "two migration files share number \(a.version): \(a.name) and \(b.name)")
        }
        return migrations
    }

    /// The migrations not yet applied (without applying them).
    public func pendingMigrations(on connection: PostgresConnection) async throws -> [Migration] {
        let migrations = try loadMigrations()
        let exists = try await connection.query("SELECT to_regclass('schema_versions') IS NOT NULL").first?.decode(0, as: Bool.self) ?? false
        guard exists else { return migrations }
        let applied = Set(try await connection.query("SELECT version FROM schema_versions").map { try $0.decode(0, as: Int.self) })
        return migrations.filter { !applied.contains($0.version) }
    }

    /// Applies every pending migration; a no-op when all are applied.
    public func migrate(on connection: PostgresConnection) async throws -> MigrationReport {
        let migrations = try loadMigrations()
        return try await connection.applyMigrations(migrations, lockKey: Self.lockKey)
    }
}

extension PostgresConnection {
    func applyMigrations(_ migrations: [Migration], lockKey: Int64) throws -> MigrationReport {
        try execute("SELECT pg_advisory_lock(\(lockKey))")
        defer { _ = try? execute("SELECT pg_advisory_unlock(\(lockKey))") }
        try execute(
            """
            CREATE TABLE IF NOT EXISTS schema_versions (
                version    integer PRIMARY KEY,
                name       text NOT NULL,
                checksum   text NOT NULL,
                applied_at timestamptz NOT NULL DEFAULT now()
            )
            """)
        var applied: [Int: (name: String, checksum: String)] = [:]
        for row in try query("SELECT version, name, checksum FROM schema_versions ORDER BY version") {
            applied[try row.decode(0, as: Int.self)] = (try row.decode(1), try row.decode(2))
        }
        let byVersion = Dictionary(migrations.map { ($0.version, $0) }, uniquingKeysWith: { a, _ in a })
        let highestApplied = applied.keys.max() ?? 0
        for (version, record) in applied.sorted(by: { $0.key < $1.key }) {
            guard let file = byVersion[version] else {
                throw PostgresError(
                    code: .migration, message: "migration \(version) (\(record.name)) is recorded as applied but its file is missing from Schemas/",
                    hint: "restore the file; never delete an applied migration")
            }
            let checksum = try query("SELECT md5(\(file.sql))").first?.decode(0, as: String.self) ?? ""
            guard checksum == record.checksum else {
                throw PostgresError(
                    code: .migration,
                    message:
                        "migration \(version) (\(file.name)) was changed after it was applied (checksum \(record.checksum) recorded, \(checksum) now)",
                    hint: "restore the applied file and put the change in a new migration")
            }
        }
        var report = MigrationReport(applied: [], alreadyApplied: applied.count)
        for migration in migrations where applied[migration.version] == nil {
            if migration.version < highestApplied {
                throw PostgresError(
                    code: .migration,
                    message:
                        "migration \(migration.version) (\(migration.name)) is new but numbered below \(highestApplied), which is already applied",
                    hint: "renumber it after \(highestApplied)")
            }
            try inTransaction {
                try executeScript(migration.sql)
                try execute(
                    """
                    INSERT INTO schema_versions (version, name, checksum)
                    VALUES (\(migration.version), \(migration.name), md5(\(migration.sql)))
                    """)
            }
            report.applied.append(migration)
        }
        return report
    }
}
