import Access
import Foundation
import PostgresStore
import Testing
import VigilCore
import VigilTesting

@Suite("Console four-eyes proposals: backtest beside the live run, approve by another admin only", .serialized)
struct ConsoleProposalTests {
    @Test("the rules page shows an open proposal with its backtest; its proposer gets no button and is refused; another admin approves it")
    func decide() async throws {
        try await TestDatabase.withMigrated { database in
            let patToken = try await TestTokens.create(.admin, name: "pat", in: database)
            let adaToken = try await TestTokens.create(.admin, name: "ada", in: database)
            try await withConsoleVigil(database: database) { _, httpPort in
                let backtest = #"{"alerts":12,"baselineAlerts":9,"alertsAdded":4,"alertsRemoved":1,"transactions":5000,"from":"a","to":"b"}"#
                let proposal = try await PostgresConnection.withConnection(database) { db in
                    let live = try await db.query("SELECT version FROM ruleset_activations ORDER BY id DESC LIMIT 1").first?
                        .decode(0, as: String.self)
                    #expect(live != nil)
                    return try await ProposalStore.propose(
                        .init(
                            version: "candidate-1", files: ["a.rules": "# text"], message: "lower the threshold", checksJSON: "{}",
                            backtestJSON: backtest),
                        by: Actor(name: "pat"), verified: true, on: db)
                }
                let http = ConsoleHTTP(port: httpPort)
                let pat = try await http.signIn(token: patToken)
                let patPage = try await http.get("/console/rules", session: pat)
                #expect(patPage.body.contains("alerts 12 (live 9): +4 added, −1 removed over 5000 transactions"))
                #expect(patPage.body.contains("Your own proposal") && !patPage.body.contains("id=\"approve-\(proposal.id)\""))
                let patCSRF = try #require(ConsoleHTTP.csrf(in: patPage.body))
                let own = try await http.post("/console/rules/proposals/\(proposal.id)/approve", session: pat, form: [("csrf", patCSRF)])
                #expect(own.body.contains("not done:") && own.body.contains("other than the proposer"))

                let ada = try await http.signIn(token: adaToken)
                let adaPage = try await http.get("/console/rules", session: ada)
                #expect(adaPage.body.contains("id=\"approve-\(proposal.id)\""))
                let adaCSRF = try #require(ConsoleHTTP.csrf(in: adaPage.body))
                let approved = try await http.post("/console/rules/proposals/\(proposal.id)/approve", session: ada, form: [("csrf", adaCSRF)])
                #expect(approved.status == 200 && approved.body.contains("approved proposal \(proposal.id)"))
                let status = try await PostgresConnection.withConnection(database) { db in
                    try await db.query("SELECT status, decided_by FROM ruleset_proposals WHERE id = \(proposal.id)").first.map {
                        "\(try $0.decode(0, as: String.self)) by \(try $0.decode(1, as: String.self))"
                    }
                }
                #expect(status == "approved by ada")
            }
        }
    }
}
