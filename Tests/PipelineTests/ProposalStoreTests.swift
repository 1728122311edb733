import Access
import Foundation
import Pipeline
import PostgresStore
import Testing
import VigilCore
import VigilTesting

@Suite("Ruleset proposals: who may decide, and against what")
struct ProposalStoreTests {
    static func draft(_ version: String) -> ProposalStore.Draft {
        ProposalStore.Draft(version: version, files: ["a.rules": "# \(version)\n"], message: "change \(version)", checksJSON: "{}", backtestJSON: nil)
    }

    @Test("self-approval is refused and audited, even by a hand-written UPDATE; others on the same base are superseded; a stale base is refused")
    func decisions() async throws {
        try await TestDatabase.withMigrated { database in
            try await PostgresConnection.withConnection(database) { db in
                try await db.recordRulesetVersion("rs-live", files: [], ruleCount: 0, activation: RulesetActivation(author: "os:test", how: "start"))
                let alice = Actor(name: "alice")
                let bob = Actor(name: "bob")
                let p1 = try await ProposalStore.propose(Self.draft("rs-one"), by: alice, verified: true, on: db)
                let p2 = try await ProposalStore.propose(Self.draft("rs-two"), by: bob, verified: true, on: db)
                #expect(p1.baseVersion == "rs-live" && p2.baseVersion == "rs-live" && p1.files == ["a.rules": "# rs-one\n"])

                await #expect(throws: AccessError.self) { try await ProposalStore.approve(p1.id, by: alice, on: db) }
                do {
                    try await ProposalStore.approve(p1.id, by: alice, on: db)
                } catch let error as AccessError {
                    #expect(error.code == .ownProposal && error.message.contains("other than the proposer"))
                }
                await #expect(throws: PostgresError.self) {
                    try await db.execute(
                        "UPDATE ruleset_proposals SET status = 'approved', decided_by = 'alice', decided_at = now() WHERE id = \(p1.id)")
                }

                let approved = try await ProposalStore.approve(p1.id, by: bob, on: db)
                #expect(approved.status == .approved && approved.decidedBy == "bob")
                let superseded = try #require(try await ProposalStore.proposal(p2.id, on: db))
                #expect(superseded.status == .superseded && superseded.decisionNote?.contains("proposal \(p1.id)") == true)
                do {
                    try await ProposalStore.approve(p2.id, by: alice, on: db)
                    Issue.record("a superseded proposal was approved")
                } catch let error as AccessError {
                    #expect(error.code == .alreadyDecided)
                }

                // Builds on the approved one even before a server made it live.
                let p3 = try await ProposalStore.propose(Self.draft("rs-three"), by: alice, verified: true, on: db)
                #expect(p3.baseVersion == "rs-one")
                // Then something else goes live (a restart on other rules with --four-eyes off).
                try await db.recordRulesetVersion("rs-other", files: [], ruleCount: 0, activation: RulesetActivation(author: "os:test", how: "start"))
                do {
                    try await ProposalStore.approve(p3.id, by: bob, on: db)
                    Issue.record("a proposal on a stale base was approved")
                } catch let error as AccessError {
                    #expect(error.code == .staleBase && error.message.contains("rs-other") && error.message.contains("vigil rules propose"))
                }
                do {
                    try await ProposalStore.approve(999_999, by: bob, on: db)
                    Issue.record("an unknown proposal was approved")
                } catch let error as AccessError {
                    #expect(error.code == .noSuchProposal)
                }

                let rejected = try await ProposalStore.reject(p3.id, note: "re-propose on rs-other", by: bob, on: db)
                #expect(rejected.status == .rejected && rejected.decidedBy == "bob")
                let p4 = try await ProposalStore.propose(Self.draft("rs-four"), by: alice, verified: true, on: db)
                let withdrawn = try await ProposalStore.reject(p4.id, note: "not yet", by: alice, on: db)
                #expect(withdrawn.status == .withdrawn && withdrawn.decidedBy == nil)

                #expect(try await ProposalStore.list(all: false, limit: 10, on: db).map(\.id) == [p1.id])
                #expect(try await ProposalStore.list(all: true, limit: 10, on: db).count == 4)
                let audit = try await AuditLog.entries(since: nil, limit: 100, on: db).map { "\($0.action) \($0.actor)" }
                #expect(audit.filter { $0 == "rules.approve_refused alice" }.count == 3)
                #expect(audit.contains("rules.approve_refused bob") && audit.contains("rules.approve bob"))
                #expect(audit.contains("rules.reject bob") && audit.contains("rules.withdraw alice"))
                #expect(audit.filter { $0.hasPrefix("rules.propose") }.count == 4)
            }
        }
    }
}
