import VigilCore

/// A candidate ruleset waiting for (or past) a second person's decision: one row of
/// `ruleset_proposals`.
public struct RulesetProposal: Sendable, Equatable {
    /// Where a proposal stands.
    public enum Status: String, Sendable, CaseIterable {
        /// Waiting for an admin other than the proposer.
        case proposed
        /// Approved; a `--four-eyes` server makes it live (see `activatedAt`).
        case approved
        /// Refused by an admin, with a note.
        case rejected
        /// Taken back by its proposer.
        case withdrawn
        /// Another proposal on the same base was approved first.
        case superseded
    }

    /// The proposal's number (`vigil rules approve ID`).
    public var id: Int64
    /// The ruleset version the files compile to.
    public var version: String
    /// The version live (or approved and about to go live) when it was proposed.
    public var baseVersion: String?
    /// Why.
    public var message: String
    /// Who proposed it: a token's name, or `cli:<user>` / `--author` when unverified.
    public var proposedBy: String
    /// Whether the proposer presented a token (so the name is more than a claim).
    public var proposerVerified: Bool
    public var proposedAt: Timestamp
    /// Check and test results, a JSON object.
    public var checksJSON: String
    /// The backtest summary against the live run, a JSON object; nil when none was run.
    public var backtestJSON: String?
    public var status: Status
    /// The admin who approved or rejected it (never the proposer).
    public var decidedBy: String?
    public var decidedAt: Timestamp?
    /// Why it was rejected, or what superseded it.
    public var decisionNote: String?
    /// When a `--four-eyes` server made it live.
    public var activatedAt: Timestamp?
    /// Why a server refused it at activation (the live ruleset stayed).
    public var activationError: String?
    /// The files, by path relative to the proposed folder; empty unless asked for.
    public var files: [String: String] = [:]

    /// The proposal as a JSON object for the HTTP API and `vigil rules proposals --json`
    /// (the files by name only: their text can be large).
    public var json: String {
        func text(_ value: String?) -> String { value.map(JSONText.quoted) ?? "null" }
        func time(_ value: Timestamp?) -> String { value.map { JSONText.quoted(RFC3339.format($0)) } ?? "null" }
        let fields = [
            "\"id\":\(id)", "\"version\":\(text(version))", "\"base_version\":\(text(baseVersion))", "\"message\":\(text(message))",
            "\"proposed_by\":\(text(proposedBy))", "\"proposer_verified\":\(proposerVerified)", "\"proposed_at\":\(time(proposedAt))",
            "\"status\":\(text(status.rawValue))", "\"decided_by\":\(text(decidedBy))", "\"decided_at\":\(time(decidedAt))",
            "\"decision_note\":\(text(decisionNote))", "\"activated_at\":\(time(activatedAt))",
            "\"activation_error\":\(text(activationError))", "\"checks\":\(checksJSON)", "\"backtest\":\(backtestJSON ?? "null")",
            "\"files\":[" + files.keys.sorted().map(JSONText.quoted).joined(separator: ",") + "]",
        ]
        return "{" + fields.joined(separator: ",") + "}"
    }
}
