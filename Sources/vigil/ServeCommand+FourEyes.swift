import Access
import Foundation
import Logging
import Pipeline
import PostgresStore
import RuleLanguage

extension ServeCommand {
    /// The ruleset to start with. Under `--four-eyes` it is the newest approved proposal
    /// that went live, rebuilt from its stored files, so a restart serves what was
    /// approved and never what the folder holds now; the folder is served only until the
    /// first approval (the baseline). Without PostgreSQL there is no knowing what was
    /// approved, so the start is refused rather than serving unapproved rules.
    static func servedRuleset(
        folder: CompiledRuleset, files: [String], fourEyes: Bool, database: PostgresConfiguration, logger: Logger
    ) async throws -> (CompiledRuleset, [String]) {
        guard fourEyes else { return (folder, files) }
        let proposal: RulesetProposal?
        do {
            proposal = try await PostgresConnection.withConnection(database) { db -> RulesetProposal? in
                guard let id = try await ProposalStore.latestActivated(on: db) else { return nil }
                return try await ProposalStore.proposal(id, on: db)
            }
        } catch {
            throw CleanExit.failure(
                "vigil serve: --four-eyes reads the approved ruleset from PostgreSQL at start, and cannot: \(error); "
                    + "start once PostgreSQL answers (serving the rules folder instead would serve unapproved rules)")
        }
        guard let proposal else {
            logger.notice(
                "four-eyes promotion on; no proposal approved yet: serving the rules folder as the baseline",
                metadata: ["version": "\(folder.version)"])
            return (folder, files)
        }
        let loaded = try await RulesetCandidate(files: proposal.files).materialize { path in RulesetCandidate.load(path: path) }
        guard let ruleset = loaded.ruleset, ruleset.version == proposal.version else {
            throw CleanExit.failure(
                "vigil serve: approved proposal \(proposal.id) (ruleset \(proposal.version)) no longer compiles to that version with this vigil; "
                    + "start the previous vigil, or propose and approve the rules again")
        }
        if ruleset.version != folder.version {
            logger.notice(
                "four-eyes promotion on: serving the last approved ruleset, not the rules folder",
                metadata: ["proposal": "\(proposal.id)", "version": "\(ruleset.version)", "folder_version": "\(folder.version)"])
        }
        return (ruleset, proposal.files.keys.filter { $0.hasSuffix(".rules") }.sorted())
    }
}
