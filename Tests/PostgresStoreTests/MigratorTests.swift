import Foundation
import PostgresStore
import Testing
import VigilTesting

@Suite("Schema migrations against a real server")
struct MigratorTests {
    let migrator = Migrator(directory: TestDatabase.schemasDirectory)

    @Test("migrations apply in order, then a second run has nothing to do")
    func applyThenNoOp() async throws {
        try await TestDatabase.with { configuration in
            let db = try await PostgresConnection.connect(configuration)
            let files = try migrator.loadMigrations()
            #expect(files.first?.version == 1)
            let first = try await migrator.migrate(on: db)
            #expect(first.applied.map(\.version) == files.map(\.version))
            let second = try await migrator.migrate(on: db)
            #expect(second.applied.isEmpty)
            #expect(second.alreadyApplied == files.count)
            let tables = try await db.query(
                """
                SELECT table_name FROM information_schema.tables WHERE table_schema = 'public'
                """
            ).map { try $0.decode(0, as: String.self) }
            for table in [
                "transactions", "rejected_records", "accounts", "merchants", "fx_rates", "lists",
                "list_entries", "account_profiles", "alerts", "rule_hits", "ruleset_versions",
                "webhook_endpoints", "webhook_outbox", "webhook_deliveries", "schema_versions",
            ] {
                #expect(tables.contains(table), "missing table \(table)")
            }
        }
    }

    @Test("two migrators at once apply each migration exactly once")
    func concurrent() async throws {
        try await TestDatabase.with { configuration in
            let a = try await PostgresConnection.connect(configuration)
            let b = try await PostgresConnection.connect(configuration)
            async let first = migrator.migrate(on: a)
            async let second = migrator.migrate(on: b)
            let reports = try await [first, second]
            let files = try migrator.loadMigrations()
            #expect(reports.map(\.applied.count).sorted() == [0, files.count])
            let recorded = try await a.query("SELECT count(*) FROM schema_versions").first?.decode(0, as: Int.self)
            #expect(recorded == files.count)
        }
    }

    @Test("an applied migration whose file changed is refused with a clear error")
    func corruptedChecksum() async throws {
        try await TestDatabase.withMigrated { configuration in
            let db = try await PostgresConnection.connect(configuration)
            try await db.execute("UPDATE schema_versions SET checksum = \("0000") WHERE version = 1")
            let error = await #expect(throws: PostgresError.self) { try await migrator.migrate(on: db) }
            #expect(error?.code == .migration)
            #expect(error?.message.contains("was changed after it was applied") == true)
        }
    }

    @Test("an applied migration whose file is missing is refused")
    func missingFile() async throws {
        try await TestDatabase.withMigrated { configuration in
            let db = try await PostgresConnection.connect(configuration)
            try await db.execute("INSERT INTO schema_versions (version, name, checksum) VALUES (9999, \("ghost"), \("x"))")
            let error = await #expect(throws: PostgresError.self) { try await migrator.migrate(on: db) }
            #expect(error?.message.contains("its file is missing") == true)
        }
    }

    @Test("a broken migration rolls back and leaves no record")
    func failingMigrationRollsBack() async throws {
        let folder = FileManager.default.temporaryDirectory.appendingPathComponent("vigil-migrations-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: folder, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(at: folder) }
        try "CREATE TABLE a (id int);".write(to: folder.appendingPathComponent("0001_a.sql"), atomically: true, encoding: .utf8)
        try "CREATE TABLE b (id int); SELECT 1/0;".write(to: folder.appendingPathComponent("0002_b.sql"), atomically: true, encoding: .utf8)
        try await TestDatabase.with { configuration in
            let db = try await PostgresConnection.connect(configuration)
            let error = await #expect(throws: PostgresError.self) { try await Migrator(directory: folder).migrate(on: db) }
            #expect(error?.sqlState == "22012")
            let versions = try await db.query("SELECT version FROM schema_versions").map { try $0.decode(0, as: Int.self) }
            #expect(versions == [1])
            let b = try await db.query("SELECT to_regclass('b') IS NULL").first?.decode(0, as: Bool.self)
            #expect(b == true)
        }
    }

    @Test("misnamed and duplicate migration files are refused")
    func badFiles() throws {
        let folder = FileManager.default.temporaryDirectory.appendingPathComponent("vigil-migrations-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: folder, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(at: folder) }
        try "SELECT 1;".write(to: folder.appendingPathComponent("0001_a.sql"), atomically: true, encoding: .utf8)
        try "SELECT 1;".write(to: folder.appendingPathComponent("0001_b.sql"), atomically: true, encoding: .utf8)
        #expect(throws: PostgresError.self) { try Migrator(directory: folder).loadMigrations() }
        try FileManager.default.removeItem(at: folder.appendingPathComponent("0001_b.sql"))
        try "SELECT 1;".write(to: folder.appendingPathComponent("init.sql"), atomically: true, encoding: .utf8)
        #expect(throws: PostgresError.self) { try Migrator(directory: folder).loadMigrations() }
    }
}
