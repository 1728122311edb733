import Access
import ArgumentParser
import Backtest
import Foundation
import Pipeline
import PostgresStore
import RuleLanguage
import VigilCore

extension RulesCommand {
    struct Propose: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Propose a rules folder for four-eyes promotion: checked, tested and backtested, then stored for an admin's approval.",
            discussion: """
                Stores every file of the folder (rules, lists, tests) with the check and test results and a \
                backtest against the live run (see `vigil rules backtest`). It goes live only when an admin \
                other than the proposer approves it (`vigil rules approve ID`) and a server runs with \
                --four-eyes. The proposer is the token's name with --token or VIGIL_TOKEN (verified), else \
                --author or cli:$USER (a claim; see docs/security.md). Connects with DATABASE_URL or PG*.
                """)

        @Argument(help: "The rules folder to propose.") var directory: String
        @Option(name: .shortAndLong, help: "Why: what changes and what it is expected to do.") var message: String
        @Option(help: "Backtest period start (RFC 3339, event time); default: the first stored transaction.") var from: String?
        @Option(help: "Backtest period end, exclusive (RFC 3339); default: after the last stored transaction.") var to: String?
        @Flag(help: "Store the proposal without a backtest (say why in the message).") var skipBacktest = false
        @Option(help: "An API token (role analyst or higher) that names the proposer [VIGIL_TOKEN].") var token: String?
        @Option(help: "The proposer's name when no token is given (default cli:$USER); not verified.") var author: String?
        @Flag(inversion: .prefixedNo, help: "Refuse a ruleset with a rule that no test case expects to hit (as serve does).")
        var requireTests = true
        @Option(help: "The currency amount_base is in, for the backtest (as for serve; env VIGIL_BASE_CURRENCY).")
        var baseCurrency: String = ProcessInfo.processInfo.environment["VIGIL_BASE_CURRENCY"] ?? "EUR"

        func run() async throws {
            guard !message.trimmingCharacters(in: .whitespaces).isEmpty else {
                throw CleanExit.failure("vigil rules propose: -m must say what the change is and why")
            }
            let candidate: RulesetCandidate
            let checks: CandidateChecks
            do {
                candidate = try RulesetCandidate.read(directory: directory)
                checks = try await candidate.check()
            } catch let error as CandidateError {
                throw CleanExit.failure("vigil rules propose: \(error.message)")
            }
            if let refusal = checks.refusal(requireTests: requireTests) {
                throw CleanExit.failure("vigil rules propose: not proposed: \(refusal)")
            }
            var backtest: BacktestReport?
            if !skipBacktest {
                var options = BacktestOptions(baseCurrency: baseCurrency)
                options.from = try from.map { try BacktestCommand.time($0, "from") }
                options.to = try to.map { try BacktestCommand.time($0, "to") }
                do {
                    backtest = try await Backtest.run(
                        candidate: try RulesCommand.loadOrReport([directory]), baseline: .live, options: options,
                        database: .fromEnvironment(applicationName: "vigil-backtest"))
                } catch let error as BacktestError {
                    throw CleanExit.failure("vigil rules propose: the backtest failed: \(error) (or propose with --skip-backtest)")
                } catch let error as PostgresError {
                    throw CleanExit.failure("vigil rules propose: the backtest failed: \(error)")
                }
            }
            let encoder = JSONEncoder()
            encoder.outputFormatting = [.sortedKeys]
            let backtestJSON = try backtest.map { String(decoding: try encoder.encode($0), as: UTF8.self) }
            let draft = ProposalStore.Draft(
                version: checks.version ?? "", files: candidate.files, message: message, checksJSON: checks.json, backtestJSON: backtestJSON)
            let given = token ?? ProcessInfo.processInfo.environment["VIGIL_TOKEN"]
            let proposal = try await TokensCommand.withDatabase("rules propose") { db in
                if let given {
                    let actor = try await RulesCommand.tokenActor(given, least: .analyst, command: "rules propose", on: db)
                    return try await ProposalStore.propose(draft, by: actor, verified: true, on: db)
                }
                let actor = author.map { Actor(name: $0) } ?? TokensCommand.actor
                return try await ProposalStore.propose(draft, by: actor, verified: false, on: db)
            }
            print(
                "proposal \(proposal.id): ruleset \(proposal.version) (\(checks.rules) rules) on top of \(proposal.baseVersion ?? "no live ruleset"), "
                    + "by \(proposal.proposedBy)\(proposal.proposerVerified ? "" : " (unverified: no token)")")
            print("checks: compiles, \(checks.warnings) warning(s); tests \(checks.testsPassed) passed, \(checks.testsFailed) failed")
            if let backtest {
                print(
                    "backtest against the live run, \(backtest.from) to \(backtest.to): \(backtest.transactions) transactions, "
                        + "\(backtest.alerts) alerts (live \(backtest.baselineAlerts)): +\(backtest.alertsAdded) added, -\(backtest.alertsRemoved) removed"
                )
            } else {
                print("backtest: skipped (--skip-backtest)")
            }
            print("an admin other than \(proposal.proposedBy) approves it with 'vigil rules approve \(proposal.id)' (or rejects it with -m)")
        }
    }

    /// The verified identity behind `token`, which must have at least `role`.
    static func tokenActor(_ token: String, least role: Role, command: String, on db: PostgresConnection) async throws -> Actor {
        switch try await TokenStore.verify(APIToken(text: token.trimmingCharacters(in: .whitespacesAndNewlines)), on: db) {
        case .valid(let name, let tokenRole):
            guard tokenRole >= role else {
                throw CleanExit.failure("vigil \(command): token '\(name)' has role \(tokenRole); this needs role \(role) or higher")
            }
            return Actor(name: name)
        case .unknown:
            throw CleanExit.failure("vigil \(command): the token is not valid (check it was copied whole; 'vigil tokens list' shows the tokens)")
        case .revoked(let name):
            throw CleanExit.failure("vigil \(command): token '\(name)' has been revoked; ask an admin for a new one")
        case .expired(let name):
            throw CleanExit.failure("vigil \(command): token '\(name)' has expired; ask an admin for a new one")
        }
    }
}
