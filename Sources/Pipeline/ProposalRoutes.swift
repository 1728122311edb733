import Access
import Foundation
import HTTPAPI
import Hummingbird
import NIOCore
import PostgresStore
import VigilCore

/// Four-eyes promotion over HTTP (docs/backtest.md, "Four-eyes promotion"):
///
/// | route | role |
/// |---|---|
/// | `GET /api/v1/rulesets/proposals[?all=true]` | viewer |
/// | `POST /api/v1/rulesets/proposals` `{"message","files":{path:text}}` | analyst |
/// | `POST /api/v1/rulesets/proposals/{id}/approve` | admin, not the proposer |
/// | `POST /api/v1/rulesets/proposals/{id}/reject` `{"message"}` | admin |
///
/// The caller is the token's name, so "not the proposer" compares two verified names.
struct ProposalRoutes: Sendable {
    let reloader: RulesReloader
    let access: AccessStore

    func add(to router: Router<APIRequestContext>) {
        router.group(requiring: .viewer, access: access).get("/api/v1/rulesets/proposals") { request, _ in
            let all = request.uri.queryParameters.get("all") == "true"
            let proposals = try await store { db in try await ProposalStore.list(all: all, limit: 100, on: db) }
            return OpsRoutes.json(.ok, "{\"proposals\":[" + proposals.map(\.json).joined(separator: ",") + "]}\n")
        }
        router.group(requiring: .analyst, access: access).post("/api/v1/rulesets/proposals") { request, context in
            let body = try await Self.object(request)
            guard let message = body["message"] as? String, !message.isEmpty, let files = body["files"] as? [String: String] else {
                throw Self.badBody("a proposal is {\"message\": \"why\", \"files\": {\"velocity.rules\": \"...\", \"tests/v.test.json\": \"...\"}}")
            }
            let candidate = RulesetCandidate(files: files)
            let checks: CandidateChecks
            do {
                try candidate.validate()
                checks = try await candidate.check(previous: reloader.state.rules.ruleset)
            } catch let error as CandidateError {
                throw Self.badBody(error.message)
            }
            if let refusal = checks.refusal(requireTests: reloader.requireTests) {
                throw APIError(.unprocessableContent, code: "candidate_refused", message: "not proposed: " + refusal)
            }
            let draft = ProposalStore.Draft(
                version: checks.version ?? "", files: files, message: message, checksJSON: checks.json, backtestJSON: nil)
            let actor = context.actor
            let proposal = try await store { db in try await ProposalStore.propose(draft, by: actor, verified: true, on: db) }
            return OpsRoutes.json(.created, proposal.json + "\n")
        }
        let admin = router.group(requiring: .admin, access: access)
        admin.post("/api/v1/rulesets/proposals/:id/approve") { _, context in
            let id = try Self.id(context)
            let proposal = try await store { db in try await ProposalStore.proposal(id, on: db) }
            guard let proposal else { throw Self.notFound(id) }
            // Checked again now: the reviewer approves what compiles and passes today.
            if proposal.status == .proposed,
                let refusal = try await RulesetCandidate(files: proposal.files).check().refusal(requireTests: reloader.requireTests)
            {
                try? await access.record(
                    "rules.approve_refused", target: "proposal \(id)", detail: "{\"reason\":\"candidate_refused\"}", by: context.actor)
                throw APIError(.unprocessableContent, code: "candidate_refused", message: "proposal \(id) cannot be approved: " + refusal)
            }
            let actor = context.actor
            _ = try await store { db in try await ProposalStore.approve(id, by: actor, on: db) }
            // Under --four-eyes this server makes it live now and answers with the outcome
            // (the approvals listener finds it done); otherwise a --four-eyes server will.
            if reloader.fourEyes { _ = await reloader.activate(proposal: id) }
            let decided = try await store { db in try await ProposalStore.proposal(id, on: db) }
            return OpsRoutes.json(.ok, (decided ?? proposal).json + "\n")
        }
        admin.post("/api/v1/rulesets/proposals/:id/reject") { request, context in
            let id = try Self.id(context)
            let body = try await Self.object(request)
            guard let note = body["message"] as? String, !note.isEmpty else {
                throw Self.badBody("a rejection is {\"message\": \"why\"}: the proposer needs to know what to change")
            }
            let actor = context.actor
            let proposal = try await store { db in try await ProposalStore.reject(id, note: note, by: actor, on: db) }
            return OpsRoutes.json(.ok, proposal.json + "\n")
        }
    }

    /// Under `--four-eyes`, `POST /admin/reload-rules` is refused (409 `four_eyes_required`,
    /// audited) before anything is read from the rules folder.
    func refuseReloadUnderFourEyes(by actor: Actor) async throws {
        guard reloader.fourEyes else { return }
        try? await access.record("rules.reload", target: nil, detail: "{\"outcome\":\"refused\",\"reason\":\"four_eyes\"}", by: actor)
        throw APIError(.conflict, code: "four_eyes_required", message: RulesReloader.fourEyesReason)
    }

    /// Runs `body` on the access store's connection; refusals become JSON errors.
    private func store<T: Sendable>(_ body: @Sendable (PostgresConnection) async throws -> T) async throws -> T {
        do {
            return try await access.withConnection(body)
        } catch let error as AccessError {
            switch error.code {
            case .noSuchProposal: throw APIError(.notFound, code: error.code.rawValue, message: error.message)
            case .alreadyDecided, .ownProposal, .staleBase: throw APIError(.conflict, code: error.code.rawValue, message: error.message)
            default: throw APIError(.badRequest, code: error.code.rawValue, message: error.message)
            }
        } catch let error as PostgresError {
            throw APIError(
                .serviceUnavailable, code: "database_unavailable", message: "proposals cannot be read or written now: \(error); retry shortly")
        }
    }

    private static func id(_ context: APIRequestContext) throws -> Int64 {
        guard let text = context.parameters.get("id"), let id = Int64(text), id > 0 else {
            throw badBody("the proposal id in the path must be a positive number, as 'vigil rules proposals' shows it")
        }
        return id
    }

    private static func object(_ request: Request) async throws -> [String: Any] {
        var request = request
        // Already read and bounded by the body-limit middleware.
        let body = try await request.collectBody(upTo: .max)
        guard let object = (try? JSONSerialization.jsonObject(with: Data(Array(buffer: body)))) as? [String: Any] else {
            throw badBody("the body must be a JSON object (Content-Type: application/json)")
        }
        return object
    }

    private static func badBody(_ message: String) -> APIError { APIError(.badRequest, code: "bad_request", message: message) }

    private static func notFound(_ id: Int64) -> APIError {
        APIError(.notFound, code: AccessError.Code.noSuchProposal.rawValue, message: "no proposal \(id); GET /api/v1/rulesets/proposals lists them")
    }
}
