import Access
import FeedServer
import Foundation
import Pipeline
import PostgresStore
import RuleLanguage
import Testing
import VigilCore
import VigilTesting

/// A ruleset whose one alerting rule hits every transaction, under `name`, with a window
/// of `minutes` (so each ruleset brings its own window, and a swap rebuilds it).
func everyTransaction(_ name: String, minutes: Int) -> String {
    """
    window w_\(name) = count by account_id over \(minutes)m
    rule \(name) {
      when amount_base >= 0.00 and window.w_\(name) >= 0
      severity medium
      score 50
      reason "seen"
    }
    """
}

/// The ruleset version and alerting rules that the ack of one new transaction carries.
func decidedBy(port: Int, id: String, account: String = "acc-4") async throws -> TransactionDecision? {
    try await FeedClient.withConnection(host: "127.0.0.1", port: port) { connection in
        try await connection.send(lines: [line(id, account: account)])
        return try await connection.nextDecidedReply()?.decision
    }
}

/// A JSON object from a response body.
func jsonObject(_ body: String) -> [String: Any] {
    (try? JSONSerialization.jsonObject(with: Data(body.utf8))) as? [String: Any] ?? [:]
}

@Suite("Four-eyes promotion of rulesets", .serialized)
struct FourEyesTests {
    @Test("propose over HTTP; the proposer, a viewer and an analyst cannot approve; another admin can, and the live server serves it")
    func proposeApproveOverHTTP() async throws {
        let folder = FileManager.default.temporaryDirectory.appendingPathComponent("vigil-4eyes-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: folder, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(at: folder) }
        try everyTransaction("first", minutes: 60).write(to: folder.appendingPathComponent("a.rules"), atomically: true, encoding: .utf8)
        let first = try #require(RulesetLoader.load(paths: [folder.path]).ruleset)
        let second = try compileRules(["a.rules": everyTransaction("second", minutes: 120)])

        try await TestDatabase.withMigrated { database in
            var created: [String: String] = [:]
            for (name, role) in [("vic", Role.viewer), ("ana", .analyst), ("alice", .admin), ("bob", .admin)] {
                created[name] = try await TestTokens.create(role, name: name, in: database)
            }
            let tokens = created
            let auth: @Sendable (String) -> [String] = { name in ["Authorization: Bearer \(tokens[name] ?? "")", "Content-Type: application/json"] }
            try await withVigil(
                database: database, ruleset: first,
                configure: {
                    $0.rulesPath = folder.path
                    $0.fourEyes = true
                }
            ) { server, port in
                let ops = try #require(await server.ops.boundPortNumber())
                try await waitUntil("/readyz 200") { (try? HTTPExchange.send(port: ops, path: "/readyz"))?.status == 200 }
                #expect(try await decidedBy(port: port, id: "before")?.ruleset == first.version)

                // Bad bodies are 400 with a JSON error that says what a proposal is.
                let bad = try HTTPExchange.send(
                    port: ops, method: "POST", path: "/api/v1/rulesets/proposals", headers: auth("ana"), body: "{\"files\":1}")
                #expect(bad.status == 400 && bad.error?.code == "bad_request", "\(bad.body)")
                let escape = try HTTPExchange.send(
                    port: ops, method: "POST", path: "/api/v1/rulesets/proposals", headers: auth("ana"),
                    body: #"{"message":"m","files":{"../x.rules":"rule x { when amount_base >= 0.00 }"}}"#)
                #expect(escape.status == 400 && escape.body.contains("relative path"), "\(escape.body)")
                let broken = try HTTPExchange.send(
                    port: ops, method: "POST", path: "/api/v1/rulesets/proposals", headers: auth("ana"),
                    body: #"{"message":"m","files":{"a.rules":"rule x { when amount_bse >= 0 }"}}"#)
                #expect(broken.status == 422 && broken.body.contains("amount_bse"), "\(broken.body)")
                // A proposal is self-contained: it cannot make the server read its other files into a list.
                let leak = "list leak = file \"/etc/passwd\"\n" + everyTransaction("leak", minutes: 5)
                let outside = try HTTPExchange.send(
                    port: ops, method: "POST", path: "/api/v1/rulesets/proposals", headers: auth("ana"),
                    body: "{\"message\":\"m\",\"files\":{\"a.rules\":\(JSONText.quoted(leak))}}")
                #expect(outside.status == 422 && outside.body.contains("cannot read list file"), "\(outside.body)")

                let body =
                    "{\"message\":\"second rule, two-hour window\",\"files\":{\"a.rules\":\(JSONText.quoted(everyTransaction("second", minutes: 120)))}}"
                let created = try HTTPExchange.send(port: ops, method: "POST", path: "/api/v1/rulesets/proposals", headers: auth("alice"), body: body)
                #expect(created.status == 201, "\(created.body)")
                let proposal = jsonObject(created.body)
                let id = try #require(proposal["id"] as? Int)
                #expect(proposal["version"] as? String == second.version && proposal["base_version"] as? String == first.version)
                #expect(proposal["proposed_by"] as? String == "alice" && proposal["proposer_verified"] as? Bool == true)

                let listed = try HTTPExchange.send(port: ops, path: "/api/v1/rulesets/proposals", headers: auth("vic"))
                #expect(listed.status == 200 && listed.body.contains("\"id\":\(id)"), "\(listed.body)")

                let approve = "/api/v1/rulesets/proposals/\(id)/approve"
                let own = try HTTPExchange.send(port: ops, method: "POST", path: approve, headers: auth("alice"))
                #expect(own.status == 409 && own.error?.code == "own_proposal", "\(own.body)")
                for caller in ["vic", "ana"] {
                    let forbidden = try HTTPExchange.send(port: ops, method: "POST", path: approve, headers: auth(caller))
                    #expect(forbidden.status == 403, "\(caller): \(forbidden.body)")
                }
                #expect(server.detection.rules.ruleset.version == first.version, "nothing goes live before a second admin approves")

                let approved = try HTTPExchange.send(port: ops, method: "POST", path: approve, headers: auth("bob"))
                #expect(approved.status == 200, "\(approved.body)")
                let decided = jsonObject(approved.body)
                #expect(decided["status"] as? String == "approved" && decided["decided_by"] as? String == "bob")
                #expect(decided["activated_at"] is String, "this --four-eyes server made it live before answering: \(approved.body)")
                #expect(server.detection.rules.ruleset.version == second.version)
                let after = try await decidedBy(port: port, id: "after")
                #expect(after?.ruleset == second.version && after?.rules == ["second"])

                let again = try HTTPExchange.send(port: ops, method: "POST", path: approve, headers: auth("bob"))
                #expect(again.status == 409 && again.error?.code == "already_decided", "\(again.body)")
                let unknown = try HTTPExchange.send(port: ops, method: "POST", path: "/api/v1/rulesets/proposals/999/approve", headers: auth("bob"))
                #expect(unknown.status == 404 && unknown.error?.code == "no_such_proposal", "\(unknown.body)")
                let noReason = try HTTPExchange.send(
                    port: ops, method: "POST", path: "/api/v1/rulesets/proposals/\(id)/reject", headers: auth("bob"), body: "{}")
                #expect(noReason.status == 400, "\(noReason.body)")
                let third = try HTTPExchange.send(
                    port: ops, method: "POST", path: "/api/v1/rulesets/proposals", headers: auth("ana"),
                    body: "{\"message\":\"third\",\"files\":{\"a.rules\":\(JSONText.quoted(everyTransaction("third", minutes: 5)))}}")
                let thirdID = try #require(jsonObject(third.body)["id"] as? Int, "\(third.body)")
                #expect(jsonObject(third.body)["base_version"] as? String == second.version)
                let reject = "/api/v1/rulesets/proposals/\(thirdID)/reject"
                #expect(
                    try HTTPExchange.send(port: ops, method: "POST", path: reject, headers: auth("ana"), body: "{\"message\":\"no\"}").status == 403)
                let rejected = try HTTPExchange.send(
                    port: ops, method: "POST", path: reject, headers: auth("bob"), body: "{\"message\":\"too broad\"}")
                #expect(jsonObject(rejected.body)["status"] as? String == "rejected" && rejected.body.contains("too broad"), "\(rejected.body)")

                // Direct reloads are refused under --four-eyes, over HTTP and by SIGHUP's path.
                let reload = try HTTPExchange.send(port: ops, method: "POST", path: "/admin/reload-rules", headers: auth("bob"))
                #expect(reload.status == 409 && reload.error?.code == "four_eyes_required", "\(reload.body)")
                #expect(reload.error?.message.contains("vigil rules propose") == true)
                #expect(await server.reloader.reload() == .refused(reason: RulesReloader.fourEyesReason))
                #expect(server.detection.rules.ruleset.version == second.version)
            }
            try await PostgresConnection.withConnection(database) { db in
                let audit = try await AuditLog.entries(since: nil, limit: 100, on: db).filter { $0.action.hasPrefix("rules.") }
                let seen = audit.map { "\($0.action) \($0.actor)" }
                #expect(seen.contains("rules.propose alice"))
                #expect(seen.contains("rules.approve_refused alice"))
                #expect(seen.contains("rules.approve bob"))
                #expect(audit.contains { $0.action == "rules.activate" && $0.detail.contains("\"live\"") })
                #expect(audit.contains { $0.action == "rules.reload" && $0.actor == "bob" && $0.detail.contains("four_eyes") })
                let history = try await db.rulesetHistory(limit: 1)
                #expect(history.first?.version == second.version && history.first?.how == "approval" && history.first?.author == "bob")
            }
        }
    }

    @Test("an approved proposal that does not compile, or compiles to another version, is refused at activation and the live ruleset stays")
    func refusedAtActivation() async throws {
        let first = try compileRules(["a.rules": everyTransaction("first", minutes: 60)])
        try await TestDatabase.withMigrated { database in
            try await withVigil(database: database, ruleset: first, configure: { $0.fourEyes = true }) { server, _ in
                #expect(await eventually { server.health.readiness.ready })
                for (files, version) in [
                    (["a.rules": "rule x { when amount_bse >= 0 }"], "rs-never"),
                    (["a.rules": everyTransaction("other", minutes: 5)], "rs-not-what-was-approved"),
                ] {
                    let id = try await PostgresConnection.withConnection(database) { db in
                        // Stored as if tampered with after review: the store takes what it is given.
                        let draft = ProposalStore.Draft(version: version, files: files, message: "m", checksJSON: "{}", backtestJSON: nil)
                        let proposal = try await ProposalStore.propose(draft, by: Actor(name: "ana"), verified: true, on: db)
                        try await ProposalStore.approve(proposal.id, by: Actor(name: "bob"), on: db)
                        return proposal.id
                    }
                    try await waitUntil("the activation outcome of proposal \(id)") {
                        try await PostgresConnection.withConnection(database) { db in
                            try await ProposalStore.proposal(id, on: db)?.activationError != nil
                        }
                    }
                    #expect(server.detection.rules.ruleset.version == first.version)
                }
            }
        }
    }
}
