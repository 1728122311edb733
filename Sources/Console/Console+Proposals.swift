import Access
import Foundation
import HTTPAPI
import Hummingbird
import VigilCore

extension Console {
    /// An open four-eyes proposal on the rules page: its backtest beside the live run, and
    /// the decision buttons for an admin who did not propose it (docs/backtest.md).
    struct ProposalRow {
        let id: Int64
        let version: String
        let message: String
        let proposedBy: String
        let verified: Bool
        let proposedAt: String
        let base: String
        /// The backtest against the live run, one line; or why there is none.
        let backtest: String
        let canDecide: Bool
        let own: Bool
    }

    /// The open proposals, newest first, as the rules page shows them to `identity`.
    func proposalRows(for identity: Identity) async throws -> [ProposalRow] {
        let proposals = try await access.withConnection { try await ProposalStore.list(all: false, limit: 20, on: $0) }
        return proposals.filter { $0.status == .proposed }.map { proposal in
            ProposalRow(
                id: proposal.id, version: String(proposal.version.prefix(12)), message: proposal.message, proposedBy: proposal.proposedBy,
                verified: proposal.proposerVerified, proposedAt: RFC3339.format(proposal.proposedAt),
                base: proposal.baseVersion.map { String($0.prefix(12)) } ?? "none", backtest: Self.backtestLine(proposal.backtestJSON),
                canDecide: identity.role >= .admin && identity.name != proposal.proposedBy, own: identity.name == proposal.proposedBy)
        }
    }

    /// "alerts 120 (live 100): +25 added, −5 removed over 9,812 transactions; fraud caught 4 (live 4), known false positives 3 (live 6)".
    static func backtestLine(_ json: String?) -> String {
        guard let json, let report = (try? JSONSerialization.jsonObject(with: Data(json.utf8))) as? [String: Any] else {
            return "no backtest stored (proposed over HTTP, or with --skip-backtest): run 'vigil rules backtest' on it before deciding"
        }
        func int(_ key: String, in object: [String: Any]? = nil) -> Int { ((object ?? report)[key] as? NSNumber)?.intValue ?? 0 }
        var line =
            "alerts \(int("alerts")) (live \(int("baselineAlerts"))): +\(int("alertsAdded")) added, −\(int("alertsRemoved")) removed "
            + "over \(int("transactions")) transactions from \(report["from"] as? String ?? "?") to \(report["to"] as? String ?? "?")"
        if int("labeledFraud") + int("labeledLegitimate") > 0 {
            let mine = report["candidateLabels"] as? [String: Any]
            let theirs = report["baselineLabels"] as? [String: Any]
            line +=
                "; fraud caught \(int("fraudCaught", in: mine)) (live \(int("fraudCaught", in: theirs))), known false positives "
                + "\(int("falsePositivesRaised", in: mine)) (live \(int("falsePositivesRaised", in: theirs)))"
        }
        return line
    }

    /// `POST /console/rules/proposals/{id}/approve|reject`: an admin's decision, through the
    /// same store as the CLI and the API (the proposer cannot decide their own; audited).
    func decideProposal(_ request: Request, context: APIRequestContext) async throws -> Response {
        let identity = try context.signedIn
        guard identity.role >= .admin else {
            throw ConsoleError(
                .forbidden, "Not allowed",
                "Deciding a ruleset proposal needs the admin role; you are signed in as '\(identity.name)' with role \(identity.role). Nothing was changed."
            )
        }
        let idText = context.parameters.get("id") ?? ""
        guard let id = Int64(idText), id > 0 else { throw ConsoleError(.badRequest, "Bad proposal id", "'\(idText)' is not a proposal id.") }
        var request = request
        let form = try await FormFields.of(&request)
        let actor = Actor(name: identity.name, remoteAddress: context.remoteAddress)
        let flash: String
        do {
            switch context.parameters.get("decision") ?? "" {
            case "approve":
                let proposal = try await access.withConnection { try await ProposalStore.approve(id, by: actor, on: $0) }
                flash = "approved proposal \(id) (\(proposal.version.prefix(12))): it goes live as soon as the server swaps it in (reload this page)"
            case "reject":
                guard let note = form.nonEmpty("note") else {
                    throw ConsoleError(.badRequest, "Say why", "Rejecting a proposal needs a note for its author. Nothing was changed.")
                }
                _ = try await access.withConnection { try await ProposalStore.reject(id, note: note, by: actor, on: $0) }
                flash = "rejected proposal \(id)"
            default:
                throw ConsoleError(.notFound, "No such decision", "A proposal is approved or rejected.")
            }
        } catch let error as AccessError {
            flash = "not done: \(error.message)"
        }
        return try await rulesPage(request, context: context, flash: flash)
    }
}
