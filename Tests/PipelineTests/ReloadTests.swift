import Foundation
import Pipeline
import PostgresStore
import RuleLanguage
import Testing
import VigilCore
import VigilTesting

@Suite("Rule hot reload")
struct ReloadTests {
    @Test("a reload swaps the ruleset between batches, rebuilds changed windows, and refuses a broken one")
    func reload() async throws {
        let folder = FileManager.default.temporaryDirectory.appendingPathComponent("vigil-reload-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: folder, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(at: folder) }
        let file = folder.appendingPathComponent("v.rules")
        try velocityRules.write(to: file, atomically: true, encoding: .utf8)
        let first = try #require(RulesetLoader.load(paths: [folder.path]).ruleset)

        try await TestDatabase.withMigrated { database in
            try await withVigil(database: database, ruleset: first, configure: { $0.rulesPath = folder.path }) { server, port in
                let start = Timestamp.now().adding(microseconds: -7_000 * 1_000_000)
                let at = { (i: Int) in start.adding(microseconds: Int64(i) * 60_000_000) }
                _ = try await send((0..<3).map { line("h-\($0)", account: "acc-h", at: at($0)) }, port: port)

                // 1. A broken ruleset is refused; the running one stays.
                try "rule broken { when amount_bse > 1 }".write(to: file, atomically: true, encoding: .utf8)
                guard case .refused(let reason) = await server.reloader.reload() else {
                    Issue.record("a broken ruleset was accepted")
                    return
                }
                #expect(reason.contains("amount_bse"))
                #expect(server.detection.rules.ruleset.version == first.version)

                // 2. A lower threshold and a changed window (2h instead of 1h) are swapped in;
                // the changed window is rebuilt from the three stored transactions.
                let second =
                    velocityRules
                    .replacingOccurrences(
                        of: "window txn_per_account_1h = count by account_id over 1h", with: "window txn_per_account_1h = count by account_id over 2h"
                    )
                    .replacingOccurrences(of: "when window.txn_per_account_1h >= 5", with: "when window.txn_per_account_1h >= 4")
                try second.write(to: file, atomically: true, encoding: .utf8)
                guard case .reloaded(let version, let rebuilt) = await server.reloader.reload() else {
                    Issue.record("reload refused")
                    return
                }
                #expect(version != first.version)
                #expect(rebuilt == ["txn_per_account_1h"])
                #expect(await server.reloader.reload() == .unchanged(version: version))

                _ = try await send([line("h-3", account: "acc-h", at: at(3))], port: port)
                let db = try await PostgresConnection.connect(database)
                let alert = try await db.query("SELECT transaction_id, ruleset_version FROM alerts").first
                #expect(try alert?.decode(0, as: String.self) == "h-3")
                #expect(try alert?.decode(1, as: String.self) == version)
                #expect(try await db.count("SELECT count(*) FROM ruleset_versions") == 2)
            }
        }
    }
}
