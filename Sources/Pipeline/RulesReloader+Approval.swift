import Access
import Foundation
import Logging
import PostgresStore
import Synchronization
import VigilCore

extension RulesReloader {
    /// Makes approved proposal `id` live, exactly as a reload would (compile, tests, swap
    /// between batches, changed windows rebuilt), and records the outcome on the proposal
    /// and in the audit log. Waits for a reload or another activation in progress, then
    /// reads the proposal again: one already made live (or refused) by another path is left
    /// alone, and `nil` is returned. A proposal whose files no longer compile, or whose
    /// tests fail, is refused and the running ruleset stays.
    public func activate(proposal id: Int64) async -> Outcome? {
        await gate.enter()
        defer { gate.leave() }
        let proposal: RulesetProposal
        do {
            let found = try await PostgresConnection.withConnection(database) { db in try await ProposalStore.proposal(id, on: db) }
            guard let found, found.status == .approved, found.activatedAt == nil, found.activationError == nil else { return nil }
            proposal = found
        } catch {
            logger.error(
                "cannot read approved proposal; it is tried again on the next approval or restart",
                metadata: ["proposal": "\(id)", "error": "\(error)"])
            return nil
        }
        let activation = RulesetActivation(
            author: proposal.decidedBy ?? "unknown", how: "approval",
            message: "proposal \(id) by \(proposal.proposedBy): \(proposal.message)")
        let outcome: Outcome
        do {
            outcome = try await RulesetCandidate(files: proposal.files).materialize { path in
                // The temporary folder means nothing to the reader: show paths as proposed.
                switch await attempt(activation, from: path, expectedVersion: proposal.version) {
                case .refused(let reason): .refused(reason: reason.replacingOccurrences(of: path + "/", with: ""))
                case let other: other
                }
            }
        } catch {
            outcome = .refused(reason: "the approved files cannot be written to a temporary folder: \(error)")
        }
        await record(outcome, of: proposal)
        return outcome
    }

    private func record(_ outcome: Outcome, of proposal: RulesetProposal) async {
        let detail: String
        switch outcome {
        case .reloaded(let version, let rebuilt):
            detail = "{\"outcome\":\"live\",\"version\":\(JSONText.quoted(version)),\"rebuilt_windows\":\(rebuilt.count)}"
            logger.notice(
                "approved ruleset is live",
                metadata: ["proposal": "\(proposal.id)", "version": "\(version)", "approved_by": "\(proposal.decidedBy ?? "")"])
        case .unchanged(let version):
            detail = "{\"outcome\":\"live\",\"version\":\(JSONText.quoted(version)),\"unchanged\":true}"
            logger.info("approved ruleset was already live", metadata: ["proposal": "\(proposal.id)", "version": "\(version)"])
        case .refused(let reason):
            detail = "{\"outcome\":\"refused\",\"reason\":\(JSONText.quoted(reason))}"
            logger.error(
                "approved ruleset refused at activation; the running ruleset stays",
                metadata: ["proposal": "\(proposal.id)", "reason": "\(reason)"])
        }
        do {
            try await PostgresConnection.withConnection(database) { db in
                try await db.transaction { db in
                    if case .refused(let reason) = outcome {
                        try ProposalStore.markActivationFailed(proposal.id, reason: reason, on: db)
                    } else {
                        try ProposalStore.markActivated(proposal.id, on: db)
                    }
                    try AuditLog.record("rules.activate", target: "proposal \(proposal.id)", detail: detail, by: Actor(name: Self.systemUser), on: db)
                }
            }
        } catch {
            // The swap has happened (or not) regardless; say loudly that its record is missing.
            logger.error("activation of an approved proposal not recorded", metadata: ["proposal": "\(proposal.id)", "error": "\(error)"])
        }
    }
}

/// One swap of the ruleset at a time. A reload tries once (a second reload meanwhile is
/// refused, as before); an approval's activation waits its turn, so it is never lost to a
/// reload and two swaps never interleave (an interleaving would mix two rulesets' windows).
final class ReloadGate: Sendable {
    private let state = Mutex<(busy: Bool, waiters: [CheckedContinuation<Void, Never>])>((false, []))

    /// Takes the gate when free.
    func tryEnter() -> Bool {
        state.withLock { state in
            if state.busy { return false }
            state.busy = true
            return true
        }
    }

    /// Takes the gate, waiting for it when taken.
    func enter() async {
        await withCheckedContinuation { (continuation: CheckedContinuation<Void, Never>) in
            let entered = state.withLock { state -> Bool in
                if state.busy {
                    state.waiters.append(continuation)
                    return false
                }
                state.busy = true
                return true
            }
            if entered { continuation.resume() }
        }
    }

    /// Hands the gate to the next waiter, or frees it.
    func leave() {
        let next = state.withLock { state -> CheckedContinuation<Void, Never>? in
            if state.waiters.isEmpty {
                state.busy = false
                return nil
            }
            return state.waiters.removeFirst()
        }
        next?.resume()
    }
}
