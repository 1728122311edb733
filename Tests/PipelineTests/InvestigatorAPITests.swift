import Access
import Foundation
import Pipeline
import PostgresStore
import Testing
import VigilCore
import VigilTesting

/// Rules for the API tests: a windowed alerting rule (so the evidence and explain trace
/// have something to show) and a shadow rule.
let investigatorRules = """
    window txn_per_account_1h = count by account_id over 1h

    rule large_remote {
      when amount_base >= 100.00 and channel == "card_not_present" and window.txn_per_account_1h >= 1
      severity high
      score 60
      reason "{amount_base} online, {window.txn_per_account_1h} in the hour"
    }

    rule shadow_any_remote {
      mode shadow
      when channel == "card_not_present"
      severity low
      score 10
      reason "remote"
    }
    """

/// Runs Vigil with `investigatorRules`, with tokens of each role, and hands over the ports.
private func withInvestigatorVigil(_ body: @Sendable (PostgresConfiguration, Int, Int, [Role: String]) async throws -> Void) async throws {
    let ruleset = try compileRules(["investigator.rules": investigatorRules])
    try await TestDatabase.withMigrated { database in
        var tokens: [Role: String] = [:]
        for role in Role.allCases { tokens[role] = try await TestTokens.create(role, in: database) }
        let frozen = tokens
        try await withVigil(database: database, ruleset: ruleset) { server, feedPort in
            let port = try #require(await server.ops.boundPortNumber())
            try await waitUntil("/readyz 200") { (try? HTTPExchange.send(port: port, path: "/readyz"))?.status == 200 }
            try await body(database, port, feedPort, frozen)
        }
    }
}

private struct API {
    let port: Int
    let tokens: [Role: String]
    let document: OpenAPIDocument

    /// Sends a request as `role` and checks the answer against openapi.yaml (`route` is the
    /// documented path template).
    func call(
        _ method: String, _ path: String, route: String, as role: Role? = .analyst, body: String = "", headers: [String] = [],
        sourceLocation: SourceLocation = #_sourceLocation
    ) throws -> HTTPExchange {
        var all = headers
        if let role, let token = tokens[role] { all.append("Authorization: Bearer \(token)") }
        if method == "POST" { all.append("Content-Type: application/json") }
        let response = try HTTPExchange.send(port: port, method: method, path: path, headers: all, body: body)
        if role != nil, response.status != 401, response.status != 403 {
            let problems = document.check(method: method, path: route, status: response.status, body: response.body)
            #expect(problems.isEmpty, "\(problems.joined(separator: "\n"))", sourceLocation: sourceLocation)
        }
        return response
    }

    func json(_ response: HTTPExchange) throws -> [String: Any] {
        try #require(try JSONSerialization.jsonObject(with: Data(response.body.utf8)) as? [String: Any], "\(response.body)")
    }
}

@Suite("Investigator API: cases, dispositions, evidence, per-rule precision, OpenAPI conformance", .serialized)
struct InvestigatorAPITests {
    @Test("every route the server has is in docs/api/openapi.yaml, and every documented route is served")
    func documentMatchesRoutes() throws {
        let document = try OpenAPIDocument.load()
        let served = Set(InvestigatorRoutes.routes.map { "\($0.method) \($0.path)" })
        let documented = document.operations
        #expect(served == documented, "served only: \(served.subtracting(documented)); documented only: \(documented.subtracting(served))")
    }

    @Test("the conformance checker catches a missing member, an extra member, a wrong type and a value outside an enum")
    func checkerFails() throws {
        let document = try OpenAPIDocument.load()
        let good = #"{"items":[],"next_cursor":null}"#
        #expect(document.check(method: "GET", path: "/api/v1/cases", status: 200, body: good).isEmpty)
        for bad in [
            #"{"items":[]}"#, #"{"items":[],"next_cursor":null,"extra":1}"#, #"{"items":{},"next_cursor":null}"#,
            #"{"items":[{"id":1,"account_id":"a","status":"done","assignee":null,"severity":"low","max_score":1,"alert_count":1,"disposition":null,"opened_at":"t","last_alert_at":"t","updated_at":"t","revision":1}],"next_cursor":null}"#,
        ] {
            #expect(!document.check(method: "GET", path: "/api/v1/cases", status: 200, body: bad).isEmpty, "\(bad)")
        }
        #expect(!document.check(method: "GET", path: "/api/v1/cases", status: 418, body: good).isEmpty)
    }

    @Test("an alert sent on the feed opens a case; it is listed, read with evidence and trace, worked and disposed; the rule's precision follows")
    func lifecycle() async throws {
        try await withInvestigatorVigil { database, port, feedPort, tokens in
            let api = API(port: port, tokens: tokens, document: try OpenAPIDocument.load())
            let now = Timestamp.now()
            let acks = try await send(
                [
                    line("t-1", account: "acc-a", at: now, amount: "150.00", channel: "card_not_present"),
                    line("t-2", account: "acc-a", at: now.adding(microseconds: 1_000_000), amount: "180.00", channel: "card_not_present"),
                    line("t-3", account: "acc-b", at: now, amount: "20.00", channel: "card_not_present"),
                    line("t-4", account: "acc-c", at: now, amount: "500.00", channel: "card_not_present"),
                ], port: feedPort)
            #expect(acks.count == 4)
            try await waitUntil("3 alerts stored") {
                (try? await PostgresConnection.withConnection(database) { try await $0.count("SELECT count(*) FROM alerts") }) == 3
            }
            // Two alerts of acc-a within the window: one case. acc-c: another.
            let cases = try api.json(try api.call("GET", "/api/v1/cases", route: "/api/v1/cases", as: .viewer))
            let items = try #require(cases["items"] as? [[String: Any]])
            #expect(items.count == 2)
            let caseA = try #require(items.first { $0["account_id"] as? String == "acc-a" })
            #expect(caseA["alert_count"] as? Int == 2 && caseA["status"] as? String == "open")
            let caseID = try #require(caseA["id"] as? Int)

            let page = try api.json(try api.call("GET", "/api/v1/alerts?account=acc-a&rule=large_remote", route: "/api/v1/alerts", as: .viewer))
            let alerts = try #require(page["items"] as? [[String: Any]])
            #expect(alerts.count == 2 && alerts.allSatisfy { $0["case_id"] as? Int == caseID })
            let alertID = try #require(alerts.first?["id"] as? Int)
            let detail = try api.json(try api.call("GET", "/api/v1/alerts/\(alertID)", route: "/api/v1/alerts/{id}", as: .viewer))
            let hits = try #require(detail["hits"] as? [[String: Any]])
            #expect(Set(hits.compactMap { $0["rule"] as? String }) == ["large_remote", "shadow_any_remote"])
            let evidence = try #require(detail["evidence"] as? [String: Any])
            let values = try #require(evidence["values"] as? [String: Any])
            #expect(values["channel"] as? String == "card_not_present" && values["window.txn_per_account_1h"] != nil, "\(values)")
            let explain = try #require(evidence["explain"] as? [[String: Any]])
            let trace = try #require(explain.first { $0["rule"] as? String == "large_remote" }?["trace"] as? [[String: Any]])
            #expect(trace.first?["value"] as? Bool == true && trace.count >= 7, "\(trace)")
            #expect((detail["transaction"] as? [String: Any])?["id"] as? String == alerts.first?["transaction_id"] as? String)

            // Work it: assign, note, review, close as legitimate (a reason is required).
            _ = try api.call("POST", "/api/v1/cases/\(caseID)/assign", route: "/api/v1/cases/{id}/assign", body: #"{"assignee":"alice"}"#)
            _ = try api.call("POST", "/api/v1/cases/\(caseID)/notes", route: "/api/v1/cases/{id}/notes", body: #"{"text":"called the customer"}"#)
            let review = try api.call("POST", "/api/v1/cases/\(caseID)/status", route: "/api/v1/cases/{id}/status", body: #"{"status":"in_review"}"#)
            #expect(review.status == 200 && review.headers["etag"] != nil)
            let noReason = try api.call(
                "POST", "/api/v1/cases/\(caseID)/close", route: "/api/v1/cases/{id}/close", body: #"{"disposition":"legitimate"}"#)
            #expect(noReason.status == 409 && noReason.error?.code == "reason_required", "\(noReason.body)")
            let stale = try api.call(
                "POST", "/api/v1/cases/\(caseID)/close", route: "/api/v1/cases/{id}/close",
                body: #"{"disposition":"fraud"}"#, headers: ["If-Match: \"1\""])
            #expect(stale.status == 409 && stale.error?.code == "revision_mismatch", "\(stale.body)")
            let closed = try api.call(
                "POST", "/api/v1/cases/\(caseID)/close", route: "/api/v1/cases/{id}/close",
                body: #"{"disposition":"fraud","reason":"customer denies both"}"#)
            let closedCase = try api.json(closed)
            #expect(closed.status == 200 && closedCase["disposition"] as? String == "fraud")
            let again = try api.call(
                "POST", "/api/v1/cases/\(caseID)/close", route: "/api/v1/cases/{id}/close", body: #"{"disposition":"fraud"}"#)
            #expect(again.status == 409 && again.error?.code == "case_closed", "\(again.body)")

            let full = try api.json(try api.call("GET", "/api/v1/cases/\(caseID)", route: "/api/v1/cases/{id}", as: .viewer))
            let history = try #require(full["history"] as? [[String: Any]])
            #expect(history.compactMap { $0["kind"] as? String } == ["opened", "alert_added", "assigned", "note", "status", "disposed"])
            #expect((full["notes"] as? [[String: Any]])?.count == 1 && full["disposed_by"] as? String != nil)

            // Per-rule figures: 3 alerts of large_remote, 2 disposed as fraud → precision 1.
            let figures = try api.json(try api.call("GET", "/api/v1/rules", route: "/api/v1/rules", as: .viewer))
            let rules = try #require(figures["rules"] as? [[String: Any]])
            let live = try #require(rules.first { $0["rule"] as? String == "large_remote" })
            #expect(live["hits"] as? Int == 3 && live["alerts"] as? Int == 3 && live["disposed"] as? Int == 2)
            #expect((live["precision"] as? NSNumber)?.doubleValue == 1.0, "\(live)")
            let shadow = try #require(rules.first { $0["rule"] as? String == "shadow_any_remote" })
            #expect(shadow["mode"] as? String == "shadow" && shadow["hits"] as? Int == 4 && shadow["alerts"] as? Int == 3)

            _ = try api.call("GET", "/api/v1/transactions/t-3", route: "/api/v1/transactions/{id}", as: .viewer)
            let activity = try api.json(
                try api.call("GET", "/api/v1/accounts/acc-a/activity?limit=5", route: "/api/v1/accounts/{id}/activity", as: .viewer))
            #expect((activity["transactions"] as? [Any])?.count == 2 && (activity["alerts"] as? [Any])?.count == 2)
            let labels = try await PostgresConnection.withConnection(database) {
                try await $0.count("SELECT count(*) FROM dispositions WHERE disposition = 'fraud'")
            }
            #expect(labels == 2)
            // Every change is in the audit log too, with the token's name and the client's address.
            let audited = try await PostgresConnection.withConnection(database) { db in
                try await db.query(
                    "SELECT action, actor, remote_address FROM audit_log WHERE target = \("case:\(caseID)") ORDER BY id"
                ).map { (try $0.decode(0, as: String.self), try $0.decode(1, as: String.self), try $0.decodeIfPresent(2, as: String.self)) }
            }
            #expect(audited.map(\.0) == ["case.assigned", "case.note", "case.status", "case.disposed"])
            #expect(audited.allSatisfy { $0.1.hasPrefix("test-analyst") && $0.2?.hasPrefix("127.0.0.1") == true }, "\(audited)")
        }
    }

    @Test("bad requests get 400/404/409 JSON errors with stable codes, never 500; roles are enforced per route")
    func refusals() async throws {
        try await withInvestigatorVigil { _, port, feedPort, tokens in
            let api = API(port: port, tokens: tokens, document: try OpenAPIDocument.load())
            _ = try await send([line("r-1", account: "acc-r", amount: "300.00", channel: "card_not_present")], port: feedPort)
            let cases: [(String, String, Int, String)] = [
                ("/api/v1/alerts?colour=red", "/api/v1/alerts", 400, "unknown_filter"),
                ("/api/v1/alerts?status=done", "/api/v1/alerts", 400, "invalid_filter"),
                ("/api/v1/alerts?cursor=bm90LWEtY3Vyc29y", "/api/v1/alerts", 400, "invalid_filter"),
                ("/api/v1/alerts?limit=0", "/api/v1/alerts", 400, "invalid_filter"),
                ("/api/v1/cases?from=yesterday", "/api/v1/cases", 400, "invalid_filter"),
                ("/api/v1/alerts/999999", "/api/v1/alerts/{id}", 404, "not_found"),
                ("/api/v1/alerts/abc", "/api/v1/alerts/{id}", 400, "invalid_id"),
                ("/api/v1/transactions/nope", "/api/v1/transactions/{id}", 404, "not_found"),
                ("/api/v1/rules?since=x", "/api/v1/rules", 400, "unknown_filter"),
            ]
            for (path, route, status, code) in cases {
                let response = try api.call("GET", path, route: route, as: .viewer)
                #expect(response.status == status && response.error?.code == code, "\(path): \(response.status) \(response.body)")
            }
            try await waitUntil("a case") {
                (try? api.json(try api.call("GET", "/api/v1/cases", route: "/api/v1/cases", as: .viewer)))
                    .flatMap { ($0["items"] as? [[String: Any]])?.first } != nil
            }
            let first = try api.json(try api.call("GET", "/api/v1/cases", route: "/api/v1/cases", as: .viewer))
            let id = try #require((first["items"] as? [[String: Any]])?.first?["id"] as? Int)
            let bodies: [(String, String, Int)] = [
                ("assign", "not json", 400), ("assign", #"{"who":"x"}"#, 400), ("status", #"{"status":"closed"}"#, 400),
                ("status", #"{"status":"open"}"#, 409), ("close", #"{"disposition":"maybe"}"#, 400), ("notes", #"{"text":""}"#, 400),
            ]
            for (action, body, status) in bodies {
                let response = try api.call("POST", "/api/v1/cases/\(id)/\(action)", route: "/api/v1/cases/{id}/\(action)", body: body)
                #expect(response.status == status, "\(action) \(body): \(response.status) \(response.body)")
            }
            // Roles: nobody without a token; a viewer reads but does not work cases.
            #expect(try api.call("GET", "/api/v1/cases", route: "/api/v1/cases", as: nil).status == 401)
            let viewerClose = try api.call(
                "POST", "/api/v1/cases/\(id)/close", route: "/api/v1/cases/{id}/close", as: .viewer, body: #"{"disposition":"fraud"}"#)
            #expect(viewerClose.status == 403 && viewerClose.error?.code == "forbidden")
            #expect(
                try api.call("POST", "/api/v1/cases/\(id)/assign", route: "/api/v1/cases/{id}/assign", as: .admin, body: #"{"assignee":null}"#).status
                    == 200)
        }
    }
}
