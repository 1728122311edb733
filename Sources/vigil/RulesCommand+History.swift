import ArgumentParser
import Foundation
import PostgresStore
import RuleLanguage
import VigilCore

extension RulesCommand {
    struct History: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "List the ruleset versions that went live: when, who, how, why.",
            discussion: "Reads ruleset_activations (DATABASE_URL or the PG* variables). Newest first.")

        @Option(help: "How many entries to show.") var limit = 20

        func run() async throws {
            let entries = try await RulesCommand.withDatabase("history") { db in try await db.rulesetHistory(limit: max(1, limit)) }
            if entries.isEmpty {
                print("no ruleset has gone live yet (vigil serve records one at start)")
                return
            }
            for e in entries {
                let message = e.message.map { "  \"\($0)\"" } ?? ""
                print("\(RFC3339.format(e.liveAt))  \(e.version)  \(e.ruleCount) rules  \(e.how) by \(e.author)\(message)")
            }
        }
    }

    struct Diff: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Show what changed between two recorded ruleset versions, file by file.",
            discussion: "Versions as `vigil rules history` prints them (rs-…). Exit status 0 either way.")

        @Argument(help: "The older version.") var from: String
        @Argument(help: "The newer version.") var to: String

        func run() async throws {
            let (old, new) = try await RulesCommand.withDatabase("diff") { db in
                (try await db.rulesetTexts(from), try await db.rulesetTexts(to))
            }
            for (version, texts) in [(from, old), (to, new)] {
                guard let texts else {
                    throw CleanExit.failure("vigil rules diff: no ruleset version \(version) is recorded; see `vigil rules history`")
                }
                if texts.isEmpty {
                    throw CleanExit.failure("vigil rules diff: version \(version) was recorded before texts were kept (migration 0016)")
                }
            }
            print(TextDiff.render(old: old ?? [:], new: new ?? [:], oldLabel: from, newLabel: to))
        }
    }

    /// Runs `body` on a connection from the environment; connection errors become a clean exit.
    static func withDatabase<T: Sendable>(_ command: String, _ body: (PostgresConnection) async throws -> T) async throws -> T {
        do {
            return try await PostgresConnection.withConnection(.fromEnvironment(applicationName: "vigil-rules"), body)
        } catch let error as PostgresError {
            throw CleanExit.failure("vigil rules \(command): \(error)")
        }
    }
}
