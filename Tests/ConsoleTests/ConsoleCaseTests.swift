import Foundation
import PostgresStore
import Testing
import VigilCore
import VigilTesting

@Suite("Console case actions: roles, CSRF, stale pages, history and audit", .serialized)
struct ConsoleCaseTests {
    @Test("an analyst works a case from the alert page; a viewer is refused, a forged form is refused, a stale page is refused, nothing is lost")
    func caseActions() async throws {
        try await TestDatabase.withMigrated { database in
            let viewerToken = try await TestTokens.create(.viewer, name: "vic", in: database)
            let analystToken = try await TestTokens.create(.analyst, name: "ann", in: database)
            try await withConsoleVigil(database: database) { feedPort, httpPort in
                try await sendFeed([feedLine("tx-case-1", amount: "900.00")], port: feedPort)
                let alertID = try await PostgresConnection.withConnection(database) { db -> Int64 in
                    try await waitUntil("the alert") { (try? await db.query("SELECT 1 FROM alerts").count) == 1 }
                    return try #require(try await db.query("SELECT id FROM alerts").first?.decode(0, as: Int64.self))
                }
                let http = ConsoleHTTP(port: httpPort)
                let path = "/console/alerts/\(alertID)"

                let viewer = try await http.signIn(token: viewerToken)
                let viewerPage = try await http.get(path, session: viewer)
                #expect(viewerPage.status == 200 && viewerPage.body.contains("id=\"case-status\""))
                #expect(!viewerPage.body.contains("id=\"dispose\""))
                let viewerCSRF = try #require(ConsoleHTTP.csrf(in: viewerPage.body))
                let byViewer = try await http.post(path + "/case/close", session: viewer, form: [("csrf", viewerCSRF), ("disposition", "fraud")])
                #expect(byViewer.status == 403 && byViewer.body.contains("analyst role"))

                let analyst = try await http.signIn(token: analystToken)
                let page = try await http.get(path, session: analyst)
                #expect(page.body.contains("id=\"dispose\""))
                let csrf = try #require(ConsoleHTTP.csrf(in: page.body))
                #expect(try await http.post(path + "/case/assign", session: analyst, form: [("assignee", "ann")]).status == 403)
                let assigned = try await http.post(
                    path + "/case/assign", session: analyst, form: [("csrf", csrf), ("revision", "1"), ("assignee", "ann")])
                #expect(assigned.status == 303)
                // The page still says revision 1: closing from it is refused, with the reason shown.
                let stale = try await http.post(
                    path + "/case/close", session: analyst, form: [("csrf", csrf), ("revision", "1"), ("disposition", "fraud")])
                #expect(stale.status == 409 && stale.body.contains("changed since you read it"))
                let noReason = try await http.post(path + "/case/close", session: analyst, form: [("csrf", csrf), ("disposition", "legitimate")])
                #expect(noReason.status == 409 && noReason.body.contains("needs a reason"))
                let closed = try await http.post(
                    path + "/case/close", session: analyst, form: [("csrf", csrf), ("disposition", "legitimate"), ("reason", "known customer")])
                #expect(closed.status == 303)
                let after = try await http.get(path, session: analyst)
                #expect(after.body.contains("id=\"case-disposition\">legitimate") && !after.body.contains("id=\"dispose\""))

                let (events, audited) = try await PostgresConnection.withConnection(database) { db in
                    (
                        try await db.query("SELECT kind, actor FROM case_events ORDER BY id").map {
                            "\(try $0.decode(0, as: String.self)):\(try $0.decode(1, as: String.self))"
                        },
                        try await db.query("SELECT action FROM audit_log WHERE action LIKE 'case.%' ORDER BY id").map {
                            try $0.decode(0, as: String.self)
                        }
                    )
                }
                #expect(events == ["opened:vigil", "assigned:ann", "disposed:ann"])
                #expect(audited == ["case.assigned", "case.disposed"])
            }
        }
    }
}
