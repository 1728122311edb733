import Access
import FeedServer
import Foundation
import Pipeline
import PostgresStore
import RuleLanguage
import Synchronization
import Testing
import VigilCore
import VigilTesting

@Suite("Four-eyes promotion: approvals racing reloads")
struct FourEyesRaceTests {
    /// Reloads from the folder (four-eyes off, so they run) and activations of approved
    /// proposals race while transactions flow: every transaction is decided by exactly one
    /// whole ruleset (its hits are that ruleset's one rule), and the last swap is the one
    /// in force.
    @Test("an approval racing reloads never serves a half-applied ruleset", .timeLimit(.minutes(3)))
    func approvalRacingReload() async throws {
        let folder = FileManager.default.temporaryDirectory.appendingPathComponent("vigil-race-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: folder, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(at: folder) }
        let texts = [
            "reload_a": everyTransaction("reload_a", minutes: 10), "reload_b": everyTransaction("reload_b", minutes: 20),
            "approved_a": everyTransaction("approved_a", minutes: 30), "approved_b": everyTransaction("approved_b", minutes: 40),
        ]
        var versions: [String: String] = [:]  // version -> its one rule
        for (rule, text) in texts { versions[try compileRules(["a.rules": text]).version] = rule }
        let ruleOf = versions
        let file = folder.appendingPathComponent("a.rules")
        try (texts["reload_a"] ?? "").write(to: file, atomically: true, encoding: .utf8)
        let start = try #require(RulesetLoader.load(paths: [folder.path]).ruleset)

        try await TestDatabase.withMigrated { database in
            try await withVigil(database: database, ruleset: start, configure: { $0.rulesPath = folder.path }) { server, port in
                #expect(await eventually { server.health.readiness.ready })
                let race = RaceState()
                let decisions = try await withThrowingTaskGroup(of: [TransactionDecision].self) { group in
                    // Reloads alternate between two folders for as long as approvals go on.
                    group.addTask {
                        var round = 0
                        while !race.approvalsDone.withLock({ $0 }) {
                            try (texts[round % 2 == 0 ? "reload_b" : "reload_a"] ?? "").write(to: file, atomically: true, encoding: .utf8)
                            if case .reloaded = await server.reloader.reload(author: "racer") { race.reloads.withLock { $0 += 1 } }
                            round += 1
                        }
                        return []
                    }
                    group.addTask {
                        for round in 0..<6 {
                            let name = round % 2 == 0 ? "approved_a" : "approved_b"
                            let id = try await Self.proposeAndApprove(["a.rules": texts[name] ?? ""], database: database)
                            _ = await server.reloader.activate(proposal: id)
                        }
                        race.approvalsDone.withLock { $0 = true }
                        return []
                    }
                    group.addTask {
                        var seen: [TransactionDecision] = []
                        var i = 0
                        while i < 60 || !race.approvalsDone.withLock({ $0 }) {
                            if let decision = try await decidedBy(port: port, id: "race-\(i)", account: "acc-\(i % 5)") { seen.append(decision) }
                            i += 1
                        }
                        return seen
                    }
                    var all: [TransactionDecision] = []
                    for try await part in group { all += part }
                    return all
                }
                let activations = try await PostgresConnection.withConnection(database) { db in
                    try await db.count("SELECT count(*) FROM ruleset_proposals WHERE activated_at IS NOT NULL")
                }
                #expect(activations == 6 && race.reloads.withLock { $0 } >= 2, "reloads and activations both took turns")
                #expect(Set(decisions.map(\.ruleset)).count >= 2, "transactions were decided while rulesets changed")
                #expect(decisions.count >= 60)
                for decision in decisions {
                    let rule = ruleOf[decision.ruleset]
                    #expect(rule != nil && decision.rules == [rule ?? ""], "ruleset \(decision.ruleset) decided with rules \(decision.rules)")
                }
                let live = server.detection.rules.ruleset.version
                let lastSwap = try await PostgresConnection.withConnection(database) { db in try await db.rulesetHistory(limit: 1).first?.version }
                #expect(lastSwap == live, "the last recorded activation is the ruleset in force")
                #expect(try await decidedBy(port: port, id: "race-last")?.rules == [ruleOf[live] ?? "?"])
            }
            // Stored hits agree with the ruleset each transaction records.
            try await PostgresConnection.withConnection(database) { db in
                let rows = try await db.query(
                    "SELECT t.id, t.decision_ruleset, h.rule_id, h.ruleset_version FROM transactions t JOIN rule_hits h ON h.transaction_id = t.id")
                #expect(rows.count >= 60)
                for row in rows {
                    let (id, version, rule, hitVersion): (String, String, String, String) = (
                        try row.decode(0), try row.decode(1), try row.decode(2), try row.decode(3)
                    )
                    #expect(ruleOf[version] == rule && hitVersion == version, "\(id) mixes rulesets: \(rule) of \(hitVersion) under \(version)")
                }
            }
        }
    }

    /// Proposes `files` as "ana" and approves as "bob", proposing again when a reload moved
    /// the live version in between (the approval then refuses the stale base, as it should).
    static func proposeAndApprove(_ files: [String: String], database: PostgresConfiguration) async throws -> Int64 {
        let checks = try await RulesetCandidate(files: files).check()
        let draft = ProposalStore.Draft(version: checks.version ?? "", files: files, message: "race", checksJSON: checks.json, backtestJSON: nil)
        return try await PostgresConnection.withConnection(database) { db in
            for _ in 0..<50 {
                let proposal = try await ProposalStore.propose(draft, by: Actor(name: "ana"), verified: true, on: db)
                do {
                    try await ProposalStore.approve(proposal.id, by: Actor(name: "bob"), on: db)
                    return proposal.id
                } catch let error as AccessError where error.code == .staleBase {
                    continue
                }
            }
            throw HarnessError(message: "fifty proposals in a row went stale")
        }
    }
}

/// What the racing tasks share: whether the approvals are done, and how many reloads went through.
private final class RaceState: Sendable {
    let approvalsDone = Mutex(false)
    let reloads = Mutex(0)
}
