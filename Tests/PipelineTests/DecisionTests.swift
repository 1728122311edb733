import FeedServer
import Foundation
import Pipeline
import PostgresStore
import RuleLanguage
import Testing
import VigilCore
import VigilTesting

/// Rules whose decisions are told apart by amount and merchant.
let decisionRules = """
    list trusted = ["m-trusted"]

    rule large {
      when amount > 100.00
      severity medium
      score 40
    }

    rule huge {
      action block
      when amount > 1000.00
      severity high
      score 30
    }

    rule trusted_merchant {
      action allow
      require merchant_id
      when merchant_id in trusted
      severity low
      score 0
    }

    policy {
      review at score >= 40
      block at score >= 90
    }
    """

/// Sends lines on one connection; returns each reply's decision (nil for a nack).
func sendForDecisions(_ lines: [String], port: Int) async throws -> [(reply: FeedAcknowledgement, decision: TransactionDecision?)] {
    try await FeedClient.withConnection(host: "127.0.0.1", port: port) { connection in
        try await connection.send(lines: lines)
        var replies: [(reply: FeedAcknowledgement, decision: TransactionDecision?)] = []
        while replies.count < lines.count, let next = try await connection.nextDecidedReply() { replies.append(next) }
        return replies
    }
}

@Suite("Decisions in the ack, through the TCP port and real PostgreSQL")
struct DecisionTests {
    @Test("every ack carries the decision, which is stored with the transaction and repeated for a duplicate")
    func decisionInAck() async throws {
        try await TestDatabase.withMigrated { database in
            let ruleset = try compileRules(["d.rules": decisionRules])
            try await withVigil(database: database, ruleset: ruleset) { _, port in
                let lines = [
                    line("d-allow", account: "acc-1", amount: "20.00"),
                    line("d-review", account: "acc-2", amount: "200.00"),
                    line("d-block", account: "acc-3", amount: "2000.00"),
                    line("d-trusted", account: "acc-4", amount: "2000.00", merchant: "m-trusted"),
                ]
                let first = try await sendForDecisions(lines, port: port)
                #expect(first.map(\.reply.id) == ["d-allow", "d-review", "d-block", "d-trusted"])
                let decisions = first.map(\.decision)
                #expect(decisions.map { $0?.outcome } == [.allow, .review, .block, .allow])
                #expect(decisions.map { $0?.score } == [0, 40, 70, 70])
                #expect(decisions.map { $0?.rules ?? ["missing"] } == [[], ["large"], ["large", "huge"], ["large", "huge", "trusted_merchant"]])
                #expect(decisions.allSatisfy { $0?.ruleset == ruleset.version && $0?.degraded == nil })

                let db = try await PostgresConnection.connect(database)
                let stored = try await db.storedDecisions(["d-allow", "d-review", "d-block", "d-trusted"])
                for (index, id) in ["d-allow", "d-review", "d-block", "d-trusted"].enumerated() {
                    #expect(stored[id] == decisions[index], "\(id) stored \(String(describing: stored[id]))")
                }
                // An allow rule raises no alert of its own; the rules beside it still do, and the
                // alert records that the sender was told allow.
                #expect(try await db.count("SELECT count(*) FROM alerts WHERE transaction_id = 'd-trusted'") == 1)
                #expect(try await db.count("SELECT count(*) FROM alerts WHERE decision = 'allow'") == 1)

                // A replay, on a new connection and together with a new record: the stored decision.
                let again = try await sendForDecisions(lines + [line("d-new", account: "acc-5", amount: "150.00")], port: port)
                for index in lines.indices {
                    #expect(again[index].reply == .ack(id: first[index].reply.id ?? "", duplicate: true))
                    #expect(again[index].decision == decisions[index])
                }
                #expect(again.last?.reply == .ack(id: "d-new", duplicate: false))
                #expect(again.last?.decision?.outcome == .review)
            }
        }
    }

    @Test("a reload never changes a stored decision; a bad policy is refused on reload with its position")
    func reloadKeepsStoredDecisions() async throws {
        let folder = FileManager.default.temporaryDirectory.appendingPathComponent("vigil-decisions-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: folder, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(at: folder) }
        let file = folder.appendingPathComponent("d.rules")
        try decisionRules.write(to: file, atomically: true, encoding: .utf8)
        let first = try #require(RulesetLoader.load(paths: [folder.path]).ruleset)
        try await TestDatabase.withMigrated { database in
            try await withVigil(database: database, ruleset: first, configure: { $0.rulesPath = folder.path }) { server, port in
                let blocked = line("r-block", account: "acc-1", amount: "2000.00")
                #expect(try await sendForDecisions([blocked], port: port).first?.decision?.outcome == .block)

                // A policy that does not parse: refused, with file, line and column.
                let policyFile = folder.appendingPathComponent("policy.rules")
                try "policy {\n  block at score > 90\n}\n".write(to: policyFile, atomically: true, encoding: .utf8)
                guard case .refused(let reason) = await server.reloader.reload() else {
                    Issue.record("a policy that does not parse was accepted")
                    return
                }
                #expect(reason.contains("policy.rules:2:18"), "\(reason)")
                #expect(server.detection.rules.ruleset.version == first.version)
                try FileManager.default.removeItem(at: policyFile)

                // The block rule now allows: new transactions are allowed, the stored one stays blocked.
                try decisionRules.replacingOccurrences(of: "action block", with: "action allow")
                    .replacingOccurrences(of: "block at score >= 90", with: "block at score >= 95")
                    .write(to: file, atomically: true, encoding: .utf8)
                guard case .reloaded(let version, _) = await server.reloader.reload() else {
                    Issue.record("the edited rules were refused")
                    return
                }
                let replies = try await sendForDecisions([blocked, line("r-after", account: "acc-2", amount: "2000.00")], port: port)
                #expect(replies.first?.reply == .ack(id: "r-block", duplicate: true))
                #expect(replies.first?.decision?.outcome == .block)
                #expect(replies.first?.decision?.ruleset == first.version)
                #expect(replies.last?.decision?.outcome == .allow)
                #expect(replies.last?.decision?.ruleset == version)
            }
        }
    }

    @Test("under a detection stall every record is acked with the fallback within the budget plus the commit, and still evaluated")
    func stallGetsFallback() async throws {
        try await TestDatabase.withMigrated { database in
            let ruleset = try compileRules(["d.rules": decisionRules])
            let budget = Duration.milliseconds(100)
            try await withVigil(
                database: database, ruleset: ruleset,
                configure: {
                    $0.decisions = DecisionSettings(budget: budget, fallback: .block)
                    // The first batch detection takes waits 4 s, far past the budget (one
                    // worker, so the stall holds every partition's records).
                    $0.detectionWorkers = 1
                    $0.faults = FaultInjection(plan: ["detect-stall": 4000])
                }
            ) { server, port in
                #expect(await eventually(timeout: .seconds(30)) { await server.health.check(probe: nil).ready })
                let lines = (0..<40).map { line("s-\($0)", account: "acc-\($0 % 8)", amount: $0 % 2 == 0 ? "20.00" : "200.00") }
                let started = ContinuousClock.now
                let replies = try await sendForDecisions(lines, port: port)
                let elapsed = ContinuousClock.now - started
                print("detection stalled 4 s, budget \(budget): all 40 fallback acks within \(elapsed) of the first send")
                #expect(replies.count == 40)
                #expect(replies.allSatisfy { $0.decision?.outcome == .block && $0.decision?.degraded == .budget && $0.decision?.ruleset == "" })
                // 1.2 budgets for the deadline's tick, plus commits on a shared, noisy machine:
                // far below the 4 s stall, which is what the ack would wait for without a budget.
                #expect(elapsed < budget * 1.2 + .milliseconds(1500), "all fallbacks took \(elapsed)")

                // Detection catches up: the review-sized ones raise alerts that say the reply was a fallback.
                let db = try await PostgresConnection.connect(database)
                let evaluated = await eventually(timeout: .seconds(30)) {
                    (try? await db.count("SELECT count(*) FROM alerts WHERE decision_degraded = 'budget' AND decision = 'block'")) == 20
                }
                #expect(evaluated)
                #expect(try await db.count("SELECT count(*) FROM rule_hits WHERE rule_id = 'large'") == 20)
                #expect(try await db.count("SELECT count(*) FROM transactions WHERE decision_degraded = 'budget'") == 40)
                // Every evaluation owed has committed: nothing is left for a restart to redo.
                #expect(try await db.count("SELECT count(*) FROM pending_evaluations") == 0)
                // A replay is answered with the stored fallback, not with the rules' review.
                let again = try await sendForDecisions([lines[1]], port: port)
                #expect(again.first?.decision?.degraded == .budget && again.first?.decision?.outcome == .block)
                #expect(server.inFlight.count == 0)
            }
        }
    }
}
