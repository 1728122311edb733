import Cases
import Foundation
import Pipeline
import PostgresStore
import RuleLanguage
import Testing
import VigilCore
import VigilTesting

@Suite("Ruleset versions and test coverage")
struct RulesetHistoryTests {
    static let cardBurstTest = """
        {"name": "card burst", "start": "2026-11-24T10:00:00Z", "rules": ["card_burst"],
         "defaults": {"account_id": "a", "card_id": "c", "channel": "card_not_present", "amount": "5.00", "currency": "EUR"},
         "transactions": [{"at": "+0m", "hits": []}, {"at": "+1m", "hits": []}, {"at": "+2m", "hits": []},
                          {"at": "+3m", "hits": []}, {"at": "+4m", "hits": ["card_burst"]}]}
        """
    static let shadowTest = """
        {"name": "large amount", "start": "2026-11-24T10:00:00Z", "rules": ["big_amount_shadow"],
         "defaults": {"account_id": "a", "channel": "card_present", "currency": "EUR"},
         "transactions": [{"at": "+0m", "amount": "600.00", "hits": ["big_amount_shadow"]}]}
        """
    static let accountBurstTest = """
        {"name": "account burst", "start": "2026-11-24T10:00:00Z", "rules": ["account_burst"],
         "defaults": {"account_id": "a", "channel": "card_present", "amount": "5.00", "currency": "EUR"},
         "transactions": [{"at": "+0m", "hits": []}, {"at": "+1m", "hits": []}, {"at": "+2m", "hits": []},
                          {"at": "+3m", "hits": ["account_burst"]}]}
        """

    @Test("an untested rule is refused on reload; an accepted reload records its text, author and message; a restart adds no history")
    func history() async throws {
        let folder = FileManager.default.temporaryDirectory.appendingPathComponent("vigil-history-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: folder, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(at: folder) }
        let file = folder.appendingPathComponent("v.rules")
        try velocityRules.write(to: file, atomically: true, encoding: .utf8)
        try Self.cardBurstTest.write(to: folder.appendingPathComponent("card.test.json"), atomically: true, encoding: .utf8)
        try Self.shadowTest.write(to: folder.appendingPathComponent("shadow.test.json"), atomically: true, encoding: .utf8)
        let first = try #require(RulesetLoader.load(paths: [folder.path]).ruleset)
        let lowered = velocityRules.replacingOccurrences(of: "when window.txn_per_account_1h >= 5", with: "when window.txn_per_account_1h >= 4")
        let configure = { (c: inout ServeConfiguration) in
            c.rulesPath = folder.path
            c.requireRuleTests = true
        }

        try await TestDatabase.withMigrated { database in
            try await withVigil(database: database, ruleset: first, configure: configure) { server, _ in
                #expect(await eventually { server.health.readiness.ready })
                try lowered.write(to: file, atomically: true, encoding: .utf8)
                guard case .refused(let reason) = await server.reloader.reload(author: "alice") else {
                    Issue.record("a ruleset with an untested rule was accepted")
                    return
                }
                #expect(reason.contains("account_burst") && !reason.contains("card_burst"))
                #expect(server.detection.rules.ruleset.version == first.version)

                try Self.accountBurstTest.write(to: folder.appendingPathComponent("account.test.json"), atomically: true, encoding: .utf8)
                guard case .reloaded = await server.reloader.reload(author: "alice", message: "account burst at four") else {
                    Issue.record("a tested ruleset was refused")
                    return
                }
            }
            let second = try #require(RulesetLoader.load(paths: [folder.path]).ruleset)
            // A restart with the same rules is not a new activation.
            try await withVigil(database: database, ruleset: second, configure: configure) { server, _ in
                #expect(await eventually { server.health.readiness.ready })
            }
            try await PostgresConnection.withConnection(database) { db in
                let history = try await db.rulesetHistory(limit: 10)
                #expect(history.map(\.version) == [second.version, first.version])
                #expect(history.first?.author == "alice" && history.first?.how == "reload" && history.first?.message == "account burst at four")
                #expect(history.last?.how == "start" && history.last?.author.hasPrefix("os:") == true)
                let texts = try await db.rulesetTexts(second.version)
                #expect(texts?["v.rules"] == lowered)
                #expect(try await db.rulesetTexts("rs-unknown") == nil)
                let diff = TextDiff.render(
                    old: try await db.rulesetTexts(first.version) ?? [:], new: texts ?? [:], oldLabel: "a", newLabel: "b")
                #expect(diff.contains("-  when window.txn_per_account_1h >= 5") && diff.contains("+  when window.txn_per_account_1h >= 4"))
            }
        }
    }

    @Test("shadow versus live: a shadow rule's hits, those that also alerted, and those promoting it would add")
    func shadowComparison() async throws {
        let ruleset = try compileRules(["v.rules": velocityRules])
        try await TestDatabase.withMigrated { database in
            let since = Timestamp.now().adding(microseconds: -1_000_000)
            try await withVigil(database: database, ruleset: ruleset) { server, port in
                #expect(await eventually { server.health.readiness.ready })
                let start = Timestamp.now().adding(microseconds: -600 * 1_000_000)
                let at = { (i: Int) in start.adding(microseconds: Int64(i) * 60_000_000) }
                // Five on one account in an hour (account_burst alerts on the fifth), the
                // fifth large (the shadow rule hits it too); one large payment elsewhere.
                var lines = (0..<4).map { line("s-\($0)", account: "acc-s", at: at($0)) }
                lines.append(line("s-4", account: "acc-s", at: at(4), amount: "800.00"))
                lines.append(line("q-1", account: "acc-q", at: at(5), amount: "900.00"))
                lines.append(line("q-2", account: "acc-q", at: at(6), amount: "20.00"))
                _ = try await send(lines, port: port)
            }
            let report = try await PostgresConnection.withConnection(database) { db in
                try await db.shadowComparison(since: since, until: .now())
            }
            #expect(report.transactions == 7 && report.alerts == 1)
            #expect(report.rules == [ShadowComparison(rule: "big_amount_shadow", hits: 2, overlapWithAlerts: 1, wouldAdd: 1)])
            // Once the live alert it overlaps is disposed, the shadow rule has a precision.
            let judged = try await PostgresConnection.withConnection(database) { db in
                let caseID = try #require(try await db.query("SELECT case_id FROM alerts").first?.decode(0, as: Int64.self))
                _ = try await CaseStore.apply(.close(.fraud, reason: nil), toCase: caseID, by: "alice", on: db)
                return try await db.shadowComparison(since: since, until: .now())
            }
            #expect(
                judged.rules == [ShadowComparison(rule: "big_amount_shadow", hits: 2, overlapWithAlerts: 1, wouldAdd: 1, fraud: 1, disposed: 1)])
            #expect(judged.rules.first?.precision == 1.0)
        }
    }
}
