import Access
import Foundation
import Pipeline
import PostgresStore
import RuleLanguage
import Testing
import VigilCore
import VigilTesting

/// The tokens of each kind a request can carry, created in the test's database.
private struct Callers {
    var tokens: [String: String] = [:]

    static let kinds = ["none", "bad", "revoked", "expired", "viewer", "analyst", "admin"]

    static func make(in database: PostgresConfiguration) async throws -> Callers {
        var callers = Callers()
        for role in Role.allCases { callers.tokens[role.rawValue] = try await TestTokens.create(role, in: database) }
        callers.tokens["bad"] = APIToken.generate().text
        callers.tokens["revoked"] = try await TestTokens.create(.admin, name: "revoked-admin", in: database)
        try await PostgresConnection.withConnection(database) { db in
            try await TokenStore.revoke(name: "revoked-admin", by: Actor(name: "test"), on: db)
            let expired = try await TokenStore.create(
                name: "expired-admin", role: .admin, expiresAt: Timestamp.now().adding(microseconds: -3_600_000_000), by: Actor(name: "test"),
                on: db)
            callers.tokens["expired"] = expired.text
        }
        return callers
    }

    func headers(_ kind: String) -> [String] {
        tokens[kind].map { ["Authorization: Bearer \($0)"] } ?? []
    }
}

/// Runs Vigil with the `every_transaction` rules in a rules folder (so a reload answers
/// `unchanged`), waits until ready, and hands over the ops port.
private func withServedVigil(
    metricsPublic: Bool = false, _ body: @Sendable (PostgresConfiguration, Int) async throws -> Void
) async throws {
    let folder = FileManager.default.temporaryDirectory.appendingPathComponent("vigil-http-\(UUID().uuidString)")
    try FileManager.default.createDirectory(at: folder, withIntermediateDirectories: true)
    defer { try? FileManager.default.removeItem(at: folder) }
    try everyTransactionRules.write(to: folder.appendingPathComponent("every.rules"), atomically: true, encoding: .utf8)
    let ruleset = try #require(RulesetLoader.load(paths: [folder.path]).ruleset)
    try await TestDatabase.withMigrated { database in
        try await withVigil(
            database: database, ruleset: ruleset,
            configure: {
                $0.rulesPath = folder.path
                $0.http.metricsPublic = metricsPublic
                $0.http.maxBodyBytes = 1024
            }
        ) { server, _ in
            let port = try #require(await server.ops.boundPortNumber())
            try await waitUntil("/readyz 200") { (try? HTTPExchange.send(port: port, path: "/readyz"))?.status == 200 }
            try await body(database, port)
        }
    }
}

@Suite("HTTP access: tokens, roles, origin, limits, audit", .serialized)
struct HTTPAccessTests {
    /// Expected status per caller kind, in the order of `Callers.kinds`.
    static let table: [(method: String, path: String, expected: [Int])] = [
        ("GET", "/healthz", [200, 200, 200, 200, 200, 200, 200]),
        ("GET", "/readyz", [200, 200, 200, 200, 200, 200, 200]),
        ("GET", "/metrics", [401, 401, 401, 401, 200, 200, 200]),
        ("GET", "/alerts/stream", [401, 401, 401, 401, 200, 200, 200]),
        ("POST", "/admin/reload-rules", [401, 401, 401, 401, 403, 403, 200]),
        // An empty body is no pacs.008: 400 once the caller may post transfers at all.
        ("POST", "/api/v1/iso20022", [401, 401, 401, 401, 403, 400, 400]),
        // The investigator API: viewers read; working a case needs analyst (an empty body is not JSON: 400).
        ("GET", "/api/v1/alerts", [401, 401, 401, 401, 200, 200, 200]),
        ("POST", "/api/v1/cases/1/close", [401, 401, 401, 401, 403, 400, 400]),
    ]

    @Test("each endpoint × no, bad, revoked, expired, viewer, analyst, admin token → 200, 401 or 403; 401s challenge, errors are JSON")
    func endpointByCaller() async throws {
        try await withServedVigil { database, port in
            let callers = try await Callers.make(in: database)
            for row in Self.table {
                for (kind, expected) in zip(Callers.kinds, row.expected) {
                    let response = try HTTPExchange.send(port: port, method: row.method, path: row.path, headers: callers.headers(kind))
                    #expect(response.status == expected, "\(row.method) \(row.path) with \(kind) token: \(response.status) \(response.body)")
                    if expected == 401 {
                        #expect(response.headers["www-authenticate"]?.hasPrefix("Bearer") == true, "\(row.path) \(kind)")
                        #expect(
                            response.error?.code == (kind == "none" ? "unauthenticated" : "invalid_token"), "\(row.path) \(kind): \(response.body)")
                    }
                    if expected == 403 {
                        let needed = row.path.hasPrefix("/api/v1/") ? "analyst" : "admin"
                        #expect(response.error?.code == "forbidden" && response.error?.message.contains(needed) == true, "\(response.body)")
                    }
                }
            }
            let missing = try HTTPExchange.send(port: port, path: "/nothing-here", headers: callers.headers("admin"))
            #expect(missing.status == 404 && missing.error?.code == "not_found", "\(missing.body)")
            let revoked = try HTTPExchange.send(port: port, path: "/metrics", headers: callers.headers("revoked"))
            #expect(revoked.error?.message.contains("revoked") == true, "\(revoked.body)")
        }
    }

    @Test("a revoked token is refused on the very next request; the database holds the digest, never the token")
    func revocationAtOnce() async throws {
        try await withServedVigil { database, port in
            let token = try await TestTokens.create(.viewer, name: "grafana", in: database)
            #expect(try HTTPExchange.send(port: port, path: "/metrics", headers: ["Authorization: Bearer \(token)"]).status == 200)
            try await PostgresConnection.withConnection(database) { db in
                try await TokenStore.revoke(name: "grafana", by: Actor(name: "test"), on: db)
            }
            let after = try HTTPExchange.send(port: port, path: "/metrics", headers: ["Authorization: Bearer \(token)"])
            #expect(after.status == 401, "\(after.body)")

            let rows = try await PostgresConnection.withConnection(database) { db in
                try await db.query("SELECT t::text, digest FROM api_tokens t WHERE name = 'grafana'").map {
                    (try $0.decode(0, as: String.self), try $0.decode(1, as: String.self))
                }
            }
            let row = try #require(rows.first)
            #expect(!row.0.contains(token) && !row.0.contains(String(token.dropFirst(4))))
            #expect(row.1 == APIToken.digest(of: token) && row.1.count == 64)
            // A new token may take the name of a revoked one.
            let again = try await TestTokens.create(.viewer, name: "grafana", in: database)
            #expect(try HTTPExchange.send(port: port, path: "/metrics", headers: ["Authorization: Bearer \(again)"]).status == 200)
        }
    }

    @Test("a rule reload and token changes are in the audit log: who, what, from where")
    func auditRows() async throws {
        try await withServedVigil { database, port in
            let admin = try await TestTokens.create(.admin, name: "ops-alice", in: database)
            let reload = try HTTPExchange.send(port: port, method: "POST", path: "/admin/reload-rules", headers: ["Authorization: Bearer \(admin)"])
            #expect(reload.status == 200 && reload.body.hasPrefix("unchanged"), "\(reload.body)")
            try await PostgresConnection.withConnection(database) { db in
                try await TokenStore.revoke(name: "ops-alice", by: Actor(name: "cli:bob"), on: db)
                let entries = try await AuditLog.entries(since: nil, limit: 10, on: db)
                let actions = entries.map { "\($0.actor) \($0.action) \($0.target ?? "-")" }
                #expect(actions == ["test token.create ops-alice", "ops-alice rules.reload -", "cli:bob token.revoke ops-alice"], "\(actions)")
                let reloadEntry = try #require(entries.first { $0.action == "rules.reload" })
                #expect(reloadEntry.remoteAddress?.hasPrefix("127.0.0.1:") == true)
                #expect(reloadEntry.detail.contains("\"outcome\": \"unchanged\""), "\(reloadEntry.detail)")
                let created = try #require(entries.first)
                #expect(created.detail.contains("\"role\": \"admin\"") && created.remoteAddress == nil, "\(created.detail)")
                // --limit keeps the newest, oldest first; --since filters by time.
                #expect(try await AuditLog.entries(since: nil, limit: 1, on: db).map(\.action) == ["token.revoke"])
                #expect(try await AuditLog.entries(since: Timestamp.now().adding(microseconds: 60_000_000), limit: 10, on: db).isEmpty)
            }
        }
    }

    @Test("an oversized body gets 413 as JSON; a foreign Origin on a POST gets 403, the server's own origin passes")
    func limitsAndOrigin() async throws {
        try await withServedVigil { database, port in
            let admin = try await TestTokens.create(.admin, in: database)
            let auth = "Authorization: Bearer \(admin)"
            let big = try HTTPExchange.send(
                port: port, method: "POST", path: "/admin/reload-rules", headers: [auth], body: String(repeating: "x", count: 4096))
            #expect(big.status == 413 && big.error?.code == "body_too_large" && big.body.contains("1024"), "\(big.body)")
            let foreign = try HTTPExchange.send(
                port: port, method: "POST", path: "/admin/reload-rules", headers: [auth, "Origin: http://evil.example"])
            #expect(foreign.status == 403 && foreign.error?.code == "foreign_origin", "\(foreign.body)")
            let sameOrigin = try HTTPExchange.send(
                port: port, method: "POST", path: "/admin/reload-rules", headers: [auth, "Origin: http://127.0.0.1:\(port)"])
            #expect(sameOrigin.status == 200, "\(sameOrigin.body)")
            // A refused request did nothing: only the one reload is audited.
            let reloads = try await PostgresConnection.withConnection(database) { db in
                try await db.query("SELECT count(*) FROM audit_log WHERE action = 'rules.reload'").first?.decode(0, as: Int.self)
            }
            #expect(reloads == 1)
        }
    }

    @Test("a graceful shutdown ends open alert streams, so their connections close and the shutdown does not wait out its timeout")
    func shutdownEndsStreams() async throws {
        let started = ContinuousClock.now
        let clients = try await TestDatabase.withMigrated { database in
            try await withVigil(database: database, ruleset: try compileRules(["every.rules": everyTransactionRules])) { server, _ in
                let port = try #require(await server.ops.boundPortNumber())
                let token = try await TestTokens.create(.viewer, in: database)
                let reader = try await StreamClient.connect(port: port, token: token)
                let stalled = try await StreamClient.connect(port: port, token: token, reading: false)
                try await waitUntil("two subscribers") { server.alerts.subscriberCount == 2 }
                return [reader, stalled]
            }
        }
        #expect(ContinuousClock.now - started < .seconds(15), "the shutdown waited for the streams")
        #expect(await eventually { clients[0].state.closed }, "the reading client must see its connection closed")
        #expect(clients[0].state.status == 200)
    }

    @Test("revoking a token closes the alert streams it opened at once; another token's stream stays open")
    func revocationEndsOpenStreams() async throws {
        try await TestDatabase.withMigrated { database in
            try await withVigil(database: database, ruleset: try compileRules(["every.rules": everyTransactionRules])) { server, _ in
                let port = try #require(await server.ops.boundPortNumber())
                let revoked = try await TestTokens.create(.viewer, name: "dashboard", in: database)
                let kept = try await TestTokens.create(.viewer, name: "pager", in: database)
                let doomed = try await StreamClient.connect(port: port, token: revoked)
                let survivor = try await StreamClient.connect(port: port, token: kept)
                try await waitUntil("two subscribers") { server.alerts.subscriberCount == 2 }
                try await PostgresConnection.withConnection(database) { db in
                    try await TokenStore.revoke(name: "dashboard", by: Actor(name: "test"), on: db)
                }
                #expect(await eventually(timeout: .seconds(5)) { doomed.state.closed }, "the revoked token's stream must be closed")
                #expect(await eventually { server.alerts.subscriberCount == 1 })
                #expect(!survivor.state.closed)
                await survivor.close()
            }
        }
    }

    @Test("--metrics-public opens /metrics to a scraper without a token; the alert stream still needs one")
    func metricsPublic() async throws {
        try await withServedVigil(metricsPublic: true) { _, port in
            let metrics = try HTTPExchange.send(port: port, path: "/metrics")
            let stream = try HTTPExchange.send(port: port, path: "/alerts/stream")
            #expect(metrics.status == 200 && stream.status == 401)
        }
    }
}
