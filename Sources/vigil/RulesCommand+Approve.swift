import Access
import ArgumentParser
import Foundation
import Pipeline
import PostgresStore
import RuleLanguage
import VigilCore

extension RulesCommand {
    struct Proposals: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "List rules proposals, or show one with its checks, backtest and diff against its base.",
            discussion: "Open proposals only (waiting, or approved and not yet live) unless --all. Connects with DATABASE_URL or PG*.")

        @Argument(help: "A proposal to show in full (its checks, backtest and the diff a reviewer reads).") var id: Int64?
        @Flag(help: "Include decided proposals (live, rejected, withdrawn, superseded).") var all = false
        @Flag(help: "Print JSON (one object per line for the list).") var json = false

        func run() async throws {
            guard let id else {
                let proposals = try await TokensCommand.withDatabase("rules proposals") { db in
                    try await ProposalStore.list(all: all, limit: 100, on: db)
                }
                if json {
                    for p in proposals { print(p.json) }
                    return
                }
                if proposals.isEmpty { print(all ? "no proposals yet" : "no open proposals (--all shows decided ones)") }
                for p in proposals {
                    let state = p.activatedAt != nil ? "live" : p.activationError != nil ? "approved, refused at activation" : p.status.rawValue
                    print(
                        "\(p.id)\t\(state)\t\(p.version)\tby \(p.proposedBy)\(p.proposerVerified ? "" : " (unverified)")\t\(RFC3339.format(p.proposedAt))\t\(p.message)"
                    )
                }
                return
            }
            let (found, base) = try await TokensCommand.withDatabase("rules proposals") { db in
                let proposal = try await ProposalStore.proposal(id, on: db)
                var base: [String: String]?
                if let version = proposal?.baseVersion { base = try await db.rulesetTexts(version) }
                return (proposal, base)
            }
            guard let proposal = found else {
                throw CleanExit.failure("vigil rules proposals: no proposal \(id); 'vigil rules proposals --all' lists them")
            }
            if json {
                print(proposal.json)
                return
            }
            print("proposal \(proposal.id): \(proposal.status.rawValue)  ruleset \(proposal.version) on top of \(proposal.baseVersion ?? "nothing")")
            print(
                "by \(proposal.proposedBy)\(proposal.proposerVerified ? "" : " (unverified: no token)") at \(RFC3339.format(proposal.proposedAt)): \(proposal.message)"
            )
            if let at = proposal.decidedAt {
                print("decided by \(proposal.decidedBy ?? "-") at \(RFC3339.format(at))\(proposal.decisionNote.map { ": \($0)" } ?? "")")
            }
            if let at = proposal.activatedAt { print("live since \(RFC3339.format(at))") }
            if let error = proposal.activationError { print("refused at activation: \(error)") }
            print("checks: \(proposal.checksJSON)")
            print("backtest: \(proposal.backtestJSON ?? "none")")
            let texts = try await RulesetCandidate(files: proposal.files).compiledTexts() ?? [:]
            print(TextDiff.render(old: base ?? [:], new: texts, oldLabel: proposal.baseVersion ?? "(none)", newLabel: proposal.version))
        }
    }

    struct Approve: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Approve a rules proposal (admin token, not the proposer's): a --four-eyes server makes it live.",
            discussion: """
                Needs an admin API token (--token or VIGIL_TOKEN), verified against the database: the approver is \
                the token's name, and it must differ from the proposer's. The files are compiled and tested again \
                first. Refused when the proposal was made against a ruleset that is no longer the live one. \
                Written to the audit log, refusals too.
                """)

        @Argument(help: "The proposal's id ('vigil rules proposals').") var id: Int64
        @Option(help: "An admin API token [VIGIL_TOKEN].") var token: String?

        func run() async throws {
            let given = try RulesCommand.requireToken(token, command: "rules approve")
            let proposal = try await TokensCommand.withDatabase("rules approve") { db in
                let actor = try await RulesCommand.tokenActor(given, least: .admin, command: "rules approve", on: db)
                guard let proposal = try await ProposalStore.proposal(id, on: db) else {
                    throw AccessError(.noSuchProposal, "no proposal \(id); 'vigil rules proposals --all' lists them")
                }
                if proposal.status == .proposed, let refusal = try await RulesetCandidate(files: proposal.files).check().refusal(requireTests: false)
                {
                    try await db.transaction { db in
                        try AuditLog.record(
                            "rules.approve_refused", target: "proposal \(id)", detail: "{\"reason\":\"candidate_refused\"}", by: actor, on: db)
                    }
                    throw CleanExit.failure("vigil rules approve: proposal \(id) cannot be approved: \(refusal)")
                }
                return try await ProposalStore.approve(id, by: actor, on: db)
            }
            print(
                "approved proposal \(proposal.id) (ruleset \(proposal.version), proposed by \(proposal.proposedBy)); "
                    + "a server running with --four-eyes makes it live within seconds ('vigil rules history' shows it)")
        }
    }

    struct Reject: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Reject a rules proposal with a reason (admin token); the proposer rejecting their own withdraws it.")

        @Argument(help: "The proposal's id ('vigil rules proposals').") var id: Int64
        @Option(name: .shortAndLong, help: "Why: what the proposer should change.") var message: String
        @Option(help: "An admin API token [VIGIL_TOKEN].") var token: String?

        func run() async throws {
            let given = try RulesCommand.requireToken(token, command: "rules reject")
            guard !message.trimmingCharacters(in: .whitespaces).isEmpty else {
                throw CleanExit.failure("vigil rules reject: -m must say why, so the proposer knows what to change")
            }
            let proposal = try await TokensCommand.withDatabase("rules reject") { db in
                let actor = try await RulesCommand.tokenActor(given, least: .admin, command: "rules reject", on: db)
                return try await ProposalStore.reject(id, note: message, by: actor, on: db)
            }
            print("\(proposal.status.rawValue) proposal \(proposal.id): \(message)")
        }
    }

    /// `--token`, else `VIGIL_TOKEN`; a decision is never taken on a claimed name.
    static func requireToken(_ token: String?, command: String) throws -> String {
        guard let given = token ?? ProcessInfo.processInfo.environment["VIGIL_TOKEN"], !given.isEmpty else {
            throw CleanExit.failure(
                "vigil \(command): needs an admin API token (--token or VIGIL_TOKEN): decisions are taken by a verified name, "
                    + "never by $USER; 'vigil tokens create --name NAME --role admin' makes one")
        }
        return given
    }
}
