import FeedServer
import Foundation
import Testing
import VigilCore
import VigilTesting

/// Rules with a decision per amount, for the decision scenarios (not the starter rules,
/// whose thresholds change with detection tuning).
let decisionFaultRules = """
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

    policy {
      review at score >= 40
    }
    """

/// A rules folder holding `files`, inside the scratch database's folder.
func decisionRulesFolder(_ database: ScratchDatabase, _ files: [String: String]) throws -> URL {
    let folder = database.folder.appendingPathComponent("rules-\(UUID().uuidString)")
    try FileManager.default.createDirectory(at: folder, withIntermediateDirectories: true)
    for (name, text) in files { try text.write(to: folder.appendingPathComponent(name), atomically: true, encoding: .utf8) }
    return folder
}

/// Sends lines on one connection and reads each reply with its decision.
func decidedReplies(_ lines: [String], port: Int) async throws -> [(reply: FeedAcknowledgement, decision: TransactionDecision?)] {
    try await FeedClient.withConnection(host: "127.0.0.1", port: port) { connection in
        try await connection.send(lines: lines)
        var replies: [(reply: FeedAcknowledgement, decision: TransactionDecision?)] = []
        while replies.count < lines.count, let next = try await connection.nextDecidedReply() { replies.append(next) }
        return replies
    }
}

extension FaultToleranceTests {
    @Test("12g. a decision policy that does not parse, or a budget without a fallback, stops serve at start with the fix", .timeLimit(.minutes(2)))
    func badPolicyRefusedAtStart() async throws {
        try await ScratchDatabase.with("badpolicy") { database in
            let rules = try decisionRulesFolder(
                database, ["d.rules": decisionFaultRules, "policy2.rules": "policy {\n  block at score >= lots\n}\n"])
            let server = try await ServeProcess.start(
                database: database, name: "serve", extra: ["--rules", rules.path, "--no-require-tests"], waitReady: false)
            defer { Task { await server.stop() } }
            let status = await server.child.waitForExit(timeout: .seconds(30))
            #expect(status != nil && status != 0)
            let log = server.child.log
            #expect(log.contains("policy2.rules:2:21") && log.contains("expected a whole number"), "log:\n\(server.logTail)")
            #expect(log.contains("E0401"), "two policies must be reported too:\n\(server.logTail)")

            let good = try decisionRulesFolder(database, ["d.rules": decisionFaultRules])
            let noFallback = try await ServeProcess.start(
                database: database, name: "no-fallback", extra: ["--rules", good.path, "--no-require-tests", "--decision-budget", "50ms"],
                waitReady: false)
            defer { Task { await noFallback.stop() } }
            #expect(await noFallback.child.waitForExit(timeout: .seconds(30)).map { $0 != 0 } == true)
            #expect(noFallback.child.log.contains("needs --decision-fallback allow|review|block"), "log:\n\(noFallback.logTail)")
        }
    }

    @Test(
        "12h. killed with -9 between evaluation and commit, then replayed: every later ack repeats the decision stored by the replay",
        .timeLimit(.minutes(3)))
    func killBetweenEvaluationAndCommit() async throws {
        try await ScratchDatabase.with("decisionkill") { database in
            let rules = try decisionRulesFolder(database, ["d.rules": decisionFaultRules])
            let amounts = ["20.00", "200.00", "2000.00"]
            let lines = (0..<30).map { validLine("k-\($0)", account: "acc-k\($0 % 5)", amount: amounts[$0 % 3]) }
            // The writer holds its first batch for a minute: evaluated, not committed.
            let first = try await ServeProcess.start(
                database: database, name: "stalled", extra: ["--rules", rules.path, "--no-require-tests"],
                environment: ["VIGIL_TEST_FAULTS": "writer-stall=60000"])
            let sending = Task { await FeedStreaming.once(lines, port: first.feedPort) }
            let evaluated = await eventually(timeout: .seconds(30), poll: .milliseconds(50)) {
                (first.metric("vigil_transactions_evaluated_total") ?? 0) >= Double(lines.count)
            }
            #expect(evaluated, "log:\n\(first.logTail)")
            first.child.kill(SIGKILL)
            _ = await first.child.waitForExit(timeout: .seconds(10))
            let lost = await sending.value
            #expect(lost.replies.isEmpty, "nothing may be acked before its commit")
            #expect(try await database.count("SELECT count(*) FROM transactions") == 0)

            let second = try await ServeProcess.start(
                database: database, name: "after-kill", extra: ["--rules", rules.path, "--no-require-tests"], feedPort: first.feedPort,
                opsPort: first.opsPort)
            defer { Task { await second.stop() } }
            let replayed = try await decidedReplies(lines, port: second.feedPort)
            #expect(replayed.count == lines.count)
            #expect(replayed.map { $0.decision?.outcome } == (0..<30).map { [DecisionOutcome.allow, .review, .block][$0 % 3] })
            // Every later send of the same records: duplicates answered with exactly the stored decision.
            for round in 0..<2 {
                let again = try await decidedReplies(lines, port: second.feedPort)
                for index in lines.indices {
                    #expect(again[index].reply == .ack(id: "k-\(index)", duplicate: true), "round \(round), k-\(index)")
                    #expect(again[index].decision == replayed[index].decision, "round \(round), k-\(index)")
                }
            }
            let stored = try await database.strings("SELECT id || ':' || decision FROM transactions ORDER BY id")
            let expected = lines.indices.map { "k-\($0):\(replayed[$0].decision?.outcome.rawValue ?? "none")" }.sorted()
            #expect(stored.sorted() == expected)
        }
    }

    @Test(
        "12i. killed with -9 after fallback acks and before their evaluation: the next start evaluates them, each alert raised once",
        .timeLimit(.minutes(3)))
    func killBetweenFallbackAndEvaluation() async throws {
        try await ScratchDatabase.with("fallbackkill") { database in
            let rules = try decisionRulesFolder(database, ["d.rules": decisionFaultRules])
            let amounts = ["20.00", "200.00", "2000.00"]
            let lines = (0..<30).map { validLine("f-\($0)", account: "acc-f\($0 % 5)", amount: amounts[$0 % 3]) }
            let serve = ["--rules", rules.path, "--no-require-tests", "--decision-budget", "50ms", "--decision-fallback", "review", "--workers", "1"]
            // Detection (one worker, so every partition) holds its first batch for a minute:
            // every record is stored and acked with the fallback, none evaluated yet.
            let first = try await ServeProcess.start(
                database: database, name: "stalled-detect", extra: serve, environment: ["VIGIL_TEST_FAULTS": "detect-stall=60000"])
            let answered = try await decidedReplies(lines, port: first.feedPort)
            #expect(answered.count == lines.count)
            #expect(answered.allSatisfy { $0.decision?.outcome == .review && $0.decision?.degraded == .budget })
            #expect(try await database.count("SELECT count(*) FROM pending_evaluations") == lines.count)
            #expect(try await database.count("SELECT count(*) FROM alerts") == 0)
            first.child.kill(SIGKILL)
            _ = await first.child.waitForExit(timeout: .seconds(10))

            // The next start evaluates them before anything new: their hits and alerts
            // (saying the reply was a fallback) are stored, and nothing is pending.
            let second = try await ServeProcess.start(
                database: database, name: "after-kill", extra: serve, feedPort: first.feedPort, opsPort: first.opsPort)
            let caughtUp = await eventually(timeout: .seconds(30), poll: .milliseconds(100)) {
                (try? await database.count("SELECT count(*) FROM pending_evaluations")) == 0
            }
            #expect(caughtUp, "log:\n\(second.logTail)")
            #expect(second.child.log.contains("evaluating records answered with the fallback before the last stop"))
            #expect(try await database.count("SELECT count(*) FROM alerts WHERE decision = 'review' AND decision_degraded = 'budget'") == 20)
            #expect(try await database.count("SELECT count(*) FROM rule_hits WHERE rule_id = 'large'") == 20)
            #expect(try await database.count("SELECT count(*) FROM rule_hits WHERE rule_id = 'huge'") == 10)
            // Every stored answer is still the fallback the sender was given.
            #expect(try await database.count("SELECT count(*) FROM transactions WHERE decision = 'review' AND decision_degraded = 'budget'") == 30)
            await second.stop()

            // A third start finds nothing owed: no alert is raised twice.
            let third = try await second.restart(name: "third")
            defer { Task { await third.stop() } }
            #expect(!third.child.log.contains("evaluating records answered with the fallback"))
            let replayed = try await decidedReplies(Array(lines.prefix(3)), port: third.feedPort)
            #expect(replayed.allSatisfy { $0.decision?.outcome == .review && $0.decision?.degraded == .budget })
            #expect(try await database.count("SELECT count(*) FROM alerts") == 20)
            #expect(try await database.count("SELECT count(*) FROM rule_hits") == 30)
        }
    }
}
