import Access
import AsyncHTTPClient
import Foundation
import PostgresStore
import Testing
import VigilTesting

@testable import Console

@Suite("Console sign-in: sessions from tokens, CSRF, roles, audit", .serialized)
struct ConsoleSessionTests {
    @Test("a token is exchanged once for an HttpOnly SameSite=Strict cookie; only the session id's digest is stored; sign-out ends it")
    func signInStoresDigestAndSignOutEndsIt() async throws {
        try await TestDatabase.withMigrated { database in
            let token = try await TestTokens.create(.analyst, name: "ana", in: database)
            try await withConsoleVigil(database: database) { _, httpPort in
                let http = ConsoleHTTP(port: httpPort)
                // Without a session, a page sends the browser to sign in, and back afterwards.
                let anonymous = try await http.get("/console/rules")
                #expect(anonymous.status == 303)
                #expect(anonymous.headers["location"].first == "/console/sign-in?next=/console/rules")

                let reply = try await http.post("/console/sign-in", form: [("token", token), ("next", "/console/rules")])
                #expect(reply.status == 303)
                #expect(reply.headers["location"].first == "/console/rules")
                let cookie = try #require(reply.setCookie("vigil_session"))
                #expect(cookie.contains("HttpOnly"))
                #expect(cookie.contains("SameSite=Strict"))
                #expect(cookie.contains("Path=/"))
                #expect(cookie.contains("Max-Age="))
                #expect(!cookie.contains("Secure"))
                let session = try #require(reply.cookieValue("vigil_session"))
                #expect(!session.contains(token))

                let stored = try await PostgresConnection.withConnection(database) { db in
                    try await db.query("SELECT digest FROM console_sessions").map { try $0.decode(0, as: String.self) }
                }
                #expect(stored == [APIToken.digest(of: session)])

                let page = try await http.get("/console", session: session)
                #expect(page.status == 200)
                #expect(page.body.contains("id=\"signed-in-as\">ana<"))
                #expect(page.body.contains("No alerts yet."))
                let csrf = try #require(ConsoleHTTP.csrf(in: page.body))
                #expect(csrf == ConsoleSessions.csrfToken(forSessionID: session))

                // Sign-out needs the CSRF token too; with it, the session is gone.
                #expect(try await http.post("/console/sign-out", session: session, form: []).status == 403)
                let out = try await http.post("/console/sign-out", session: session, form: [("csrf", csrf)])
                #expect(out.status == 303)
                #expect(out.setCookie("vigil_session")?.contains("Max-Age=0") == true)
                #expect(try await http.get("/console", session: session).status == 303)
                let actions = try await PostgresConnection.withConnection(database) { db in
                    try await AuditLog.entries(since: nil, limit: 50, on: db).filter { $0.action.hasPrefix("console.") }.map {
                        "\($0.action) \($0.actor)"
                    }
                }
                #expect(actions == ["console.sign_in ana", "console.sign_out ana"])
            }
        }
    }

    @Test("a bad token is refused with a page that says what to do, and the refusal is audited")
    func badTokenRefused() async throws {
        try await TestDatabase.withMigrated { database in
            try await withConsoleVigil(database: database) { _, httpPort in
                let http = ConsoleHTTP(port: httpPort)
                let reply = try await http.post("/console/sign-in", form: [("token", "vgl_not-a-token")])
                #expect(reply.status == 401)
                #expect(reply.setCookie("vigil_session") == nil)
                #expect(reply.body.contains("That token is not valid."))
                let empty = try await http.post("/console/sign-in", form: [("token", "  ")])
                #expect(empty.status == 400)
                #expect(empty.body.contains("Enter your API token"))
                let refused = try await PostgresConnection.withConnection(database) { db in
                    try await AuditLog.entries(since: nil, limit: 50, on: db).filter { $0.action == "console.sign_in_refused" }.count
                }
                #expect(refused == 1)
                // Never sent elsewhere after signing in.
                let token = try await TestTokens.create(.viewer, name: "vic", in: database)
                let offsite = try await http.post("/console/sign-in", form: [("token", token), ("next", "//evil.example/console")])
                #expect(offsite.headers["location"].first == "/console")
            }
        }
    }

    @Test("revoking the token ends its console sessions at the next request")
    func revocationEndsSessions() async throws {
        try await TestDatabase.withMigrated { database in
            let token = try await TestTokens.create(.viewer, name: "vic", in: database)
            try await withConsoleVigil(database: database) { _, httpPort in
                let http = ConsoleHTTP(port: httpPort)
                let session = try await http.signIn(token: token)
                #expect(try await http.get("/console/pipeline", session: session).status == 200)
                try await PostgresConnection.withConnection(database) { db in
                    try await TokenStore.revoke(name: "vic", by: Actor(name: "test"), on: db)
                }
                let after = try await http.get("/console/pipeline", session: session)
                #expect(after.status == 303)
                #expect(after.headers["location"].first?.hasPrefix("/console/sign-in") == true)
            }
        }
    }

    @Test(
        "reloading rules: a viewer sees no button and is refused; a forged POST without the CSRF token or from another origin is refused; an admin's is audited"
    )
    func rolesAndCSRF() async throws {
        try await TestDatabase.withMigrated { database in
            let viewerToken = try await TestTokens.create(.viewer, name: "vic", in: database)
            let adminToken = try await TestTokens.create(.admin, name: "ada", in: database)
            try await withConsoleVigil(database: database) { _, httpPort in
                let http = ConsoleHTTP(port: httpPort)
                let viewer = try await http.signIn(token: viewerToken)
                let viewerPage = try await http.get("/console/rules", session: viewer)
                #expect(viewerPage.status == 200)
                #expect(!viewerPage.body.contains("id=\"reload-rules\""))
                let viewerCSRF = try #require(ConsoleHTTP.csrf(in: viewerPage.body))
                let byViewer = try await http.post("/console/rules/reload", session: viewer, form: [("csrf", viewerCSRF)])
                #expect(byViewer.status == 403)
                #expect(byViewer.body.contains("needs the admin role"))

                let admin = try await http.signIn(token: adminToken)
                let adminPage = try await http.get("/console/rules", session: admin)
                #expect(adminPage.body.contains("id=\"reload-rules\""))
                let adminCSRF = try #require(ConsoleHTTP.csrf(in: adminPage.body))
                // Forged: no token, another session's token, a foreign origin.
                #expect(try await http.post("/console/rules/reload", session: admin, form: []).status == 403)
                let crossed = try await http.post("/console/rules/reload", session: admin, form: [("csrf", viewerCSRF)])
                #expect(crossed.status == 403)
                #expect(crossed.body.contains("security token (csrf)"))
                let foreign = try await http.post(
                    "/console/rules/reload", session: admin, form: [("csrf", adminCSRF)], origin: "http://evil.example")
                #expect(foreign.status == 403)
                #expect(try await reloads(database) == 0)

                let reloaded = try await http.post("/console/rules/reload", session: admin, form: [("csrf", adminCSRF)])
                #expect(reloaded.status == 200)
                #expect(reloaded.body.contains("id=\"flash\""))
                #expect(try await reloads(database) == 1)
                // Without any session, a POST is a 401 page, not a redirect.
                #expect(try await http.post("/console/rules/reload", form: [("csrf", adminCSRF)]).status == 401)
            }
        }
    }

    @Test("the queue's live stream is opened with the session cookie, carries alerts, and is closed when its token is revoked")
    func liveStreamEndsOnRevocation() async throws {
        try await TestDatabase.withMigrated { database in
            let token = try await TestTokens.create(.viewer, name: "vic", in: database)
            try await withConsoleVigil(database: database) { feedPort, httpPort in
                let http = ConsoleHTTP(port: httpPort)
                #expect(try await http.get("/console/stream").status == 303)
                let session = try await http.signIn(token: token)
                var request = HTTPClientRequest(url: "http://127.0.0.1:\(httpPort)/console/stream")
                request.headers.add(name: "Cookie", value: "vigil_session=\(session)")
                let response = try await ConsoleHTTP.client.execute(request, timeout: .seconds(60))
                #expect(response.status.code == 200)
                #expect(response.headers["content-type"].first == "text/event-stream")
                var body = response.body.makeAsyncIterator()
                var received = ""
                try await sendFeed([feedLine("tx-stream-1", amount: "800.00")], port: feedPort)
                while !received.contains("event: alert.created"), let chunk = try await body.next() {
                    received += String(buffer: chunk)
                }
                #expect(received.contains("\"transaction_id\":\"tx-stream-1\""))
                try await PostgresConnection.withConnection(database) { db in
                    try await TokenStore.revoke(name: "vic", by: Actor(name: "test"), on: db)
                }
                // The stream ends (the server closes it), well before the request's own timeout.
                let ended = ContinuousClock.now
                do {
                    while try await body.next() != nil {}
                } catch {
                    // A closed connection may end the body with an error; either way it ended.
                }
                #expect(ContinuousClock.now - ended < .seconds(20))
            }
        }
    }

    private func reloads(_ database: PostgresConfiguration) async throws -> Int {
        try await PostgresConnection.withConnection(database) { db in
            try await AuditLog.entries(since: nil, limit: 100, on: db).filter { $0.action == "rules.reload" && $0.actor == "ada" }.count
        }
    }
}
