import PostgresStore
import VigilCore

/// Four-eyes promotion of rulesets (`ruleset_proposals`): propose, list, approve, reject.
///
/// Every step is written to the audit log in the transaction that takes it, refused
/// approvals included. An approval is announced on ``channel`` at commit; a `vigil serve
/// --four-eyes` listening there makes the ruleset live. Decisions are serialized by a
/// transaction-scoped advisory lock, so two admins approving at once cannot both win.
public enum ProposalStore {
    /// The LISTEN channel an approval is announced on (payload: the proposal's id).
    public static let channel = "vigil_rulesets"

    /// What a proposal records besides its author.
    public struct Draft: Sendable {
        public var version: String
        public var files: [String: String]
        public var message: String
        public var checksJSON: String
        public var backtestJSON: String?

        /// Creates a draft.
        public init(version: String, files: [String: String], message: String, checksJSON: String, backtestJSON: String?) {
            self.version = version
            self.files = files
            self.message = message
            self.checksJSON = checksJSON
            self.backtestJSON = backtestJSON
        }
    }

    /// Stores a proposal by `actor` (`verified`: the name comes from a token) and returns it.
    public static func propose(_ draft: Draft, by actor: Actor, verified: Bool, on db: PostgresConnection) async throws -> RulesetProposal {
        let files =
            "{" + draft.files.sorted { $0.key < $1.key }.map { JSONText.quoted($0.key) + ":" + JSONText.quoted($0.value) }.joined(separator: ",")
            + "}"
        let id = try await db.transaction { db -> Int64 in
            try lock(db)
            let base = try targetVersion(db)
            let id: Int64 =
                try db.query(
                    """
                    INSERT INTO ruleset_proposals (version, base_version, files, message, proposed_by, proposer_verified, checks, backtest)
                    VALUES (\(draft.version), \(base), \(PostgresJSON(files))::jsonb, \(draft.message), \(actor.name), \(verified),
                            \(PostgresJSON(draft.checksJSON))::jsonb, \(draft.backtestJSON.map { PostgresJSON($0) })::jsonb)
                    RETURNING id
                    """
                ).first?.decode(0) ?? 0
            try AuditLog.record(
                "rules.propose", target: "proposal \(id)",
                detail: "{\"version\":\(JSONText.quoted(draft.version)),\"base_version\":\(base.map(JSONText.quoted) ?? "null"),"
                    + "\"verified\":\(verified),\"message\":\(JSONText.quoted(draft.message))}",
                by: actor, on: db)
            return id
        }
        guard let proposal = try await proposal(id, on: db) else {
            throw AccessError(.noSuchProposal, "proposal \(id) vanished right after it was stored; run 'vigil rules proposals' to check")
        }
        return proposal
    }

    /// Approves proposal `id` as `actor`. Refused (and audited as `rules.approve_refused`)
    /// when it does not exist, is already decided, is the actor's own, or was made against
    /// a version that is no longer the one live (or approved to go live). Other open
    /// proposals on the same base are superseded: they were reviewed against what is no
    /// longer going to run.
    @discardableResult
    public static func approve(_ id: Int64, by actor: Actor, on db: PostgresConnection) async throws -> RulesetProposal {
        let refusal = try await db.transaction { db -> AccessError? in
            try lock(db)
            guard
                let row = try db.query(
                    "SELECT status, proposed_by, base_version, decided_by, version FROM ruleset_proposals WHERE id = \(id) FOR UPDATE"
                ).first
            else {
                return AccessError(.noSuchProposal, "no proposal \(id); 'vigil rules proposals' lists them")
            }
            let status: String = try row.decode(0)
            let proposer: String = try row.decode(1)
            let base: String? = try row.decodeIfPresent(2)
            let version: String = try row.decode(4)
            guard status == RulesetProposal.Status.proposed.rawValue else {
                let by = (try row.decodeIfPresent(3, as: String.self)).map { " by \($0)" } ?? ""
                return AccessError(.alreadyDecided, "proposal \(id) is already \(status)\(by); only an open proposal can be approved")
            }
            guard proposer != actor.name else {
                return AccessError(
                    .ownProposal,
                    "proposal \(id) was proposed by \(actor.name): four-eyes promotion needs an admin other than the proposer to approve it")
            }
            let target = try targetVersion(db)
            guard base == target else {
                return AccessError(
                    .staleBase,
                    "proposal \(id) was made against ruleset \(base ?? "(none)") but \(target ?? "(none)") is live or approved now; "
                        + "propose the change again on top of it ('vigil rules propose DIR -m ...') so it is reviewed against what runs")
            }
            try db.execute(
                "UPDATE ruleset_proposals SET status = 'approved', decided_by = \(actor.name), decided_at = now() WHERE id = \(id)")
            let superseded: [Int64] = try db.query(
                """
                UPDATE ruleset_proposals SET status = 'superseded', decided_at = now(),
                       decision_note = 'superseded by proposal ' || \(id)::text || ', approved by ' || \(actor.name)
                WHERE status = 'proposed' AND id <> \(id) AND base_version IS NOT DISTINCT FROM \(base) RETURNING id
                """
            ).map { try $0.decode(0) }
            try AuditLog.record(
                "rules.approve", target: "proposal \(id)",
                detail: "{\"version\":\(JSONText.quoted(version)),\"proposed_by\":\(JSONText.quoted(proposer)),"
                    + "\"superseded\":[\(superseded.map(String.init).joined(separator: ","))]}",
                by: actor, on: db)
            _ = try db.query("SELECT pg_notify(\(channel), \(String(id)))")
            return nil
        }
        if let refusal {
            try await db.transaction { db in
                try AuditLog.record(
                    "rules.approve_refused", target: "proposal \(id)",
                    detail: "{\"reason\":\(JSONText.quoted(refusal.code.rawValue)),\"message\":\(JSONText.quoted(refusal.message))}",
                    by: actor, on: db)
            }
            throw refusal
        }
        guard let proposal = try await proposal(id, on: db) else {
            throw AccessError(.noSuchProposal, "proposal \(id) vanished right after its approval; run 'vigil rules proposals' to check")
        }
        return proposal
    }

    /// Rejects open proposal `id` with a note; the proposer's own rejection is a withdrawal.
    @discardableResult
    public static func reject(_ id: Int64, note: String, by actor: Actor, on db: PostgresConnection) async throws -> RulesetProposal {
        let refusal = try await db.transaction { db -> AccessError? in
            try lock(db)
            guard let row = try db.query("SELECT status, proposed_by FROM ruleset_proposals WHERE id = \(id) FOR UPDATE").first else {
                return AccessError(.noSuchProposal, "no proposal \(id); 'vigil rules proposals' lists them")
            }
            let status: String = try row.decode(0)
            guard status == RulesetProposal.Status.proposed.rawValue else {
                return AccessError(.alreadyDecided, "proposal \(id) is already \(status); only an open proposal can be rejected")
            }
            let own = try row.decode(1, as: String.self) == actor.name
            // The proposer never decides (the table's CHECK): taking one's own back is a withdrawal.
            try db.execute(
                """
                UPDATE ruleset_proposals SET status = \(own ? "withdrawn" : "rejected"), decided_by = \(own ? nil : actor.name),
                       decided_at = now(), decision_note = \(note)
                WHERE id = \(id)
                """)
            try AuditLog.record(
                own ? "rules.withdraw" : "rules.reject", target: "proposal \(id)", detail: "{\"note\":\(JSONText.quoted(note))}", by: actor,
                on: db)
            return nil
        }
        if let refusal { throw refusal }
        guard let proposal = try await proposal(id, on: db) else {
            throw AccessError(.noSuchProposal, "proposal \(id) vanished right after its rejection; run 'vigil rules proposals' to check")
        }
        return proposal
    }

    /// Proposals newest first, at most `limit`; only open ones (proposed or approved and
    /// not yet live) unless `all`. Without their files.
    public static func list(all: Bool, limit: Int, on db: PostgresConnection) async throws -> [RulesetProposal] {
        try await db.query(
            """
            SELECT id, version, base_version, message, proposed_by, proposer_verified, proposed_at, checks::text, backtest::text,
                   status, decided_by, decided_at, decision_note, activated_at, activation_error
            FROM ruleset_proposals
            WHERE \(all) OR status = 'proposed' OR (status = 'approved' AND activated_at IS NULL AND activation_error IS NULL)
            ORDER BY id DESC LIMIT \(limit)
            """
        ).map(decode)
    }

    /// One proposal with its files; nil when there is none with that id.
    public static func proposal(_ id: Int64, on db: PostgresConnection) async throws -> RulesetProposal? {
        guard
            var proposal = try await db.query(
                """
                SELECT id, version, base_version, message, proposed_by, proposer_verified, proposed_at, checks::text, backtest::text,
                       status, decided_by, decided_at, decision_note, activated_at, activation_error
                FROM ruleset_proposals WHERE id = \(id)
                """
            ).map(decode).first
        else { return nil }
        for row in try await db.query("SELECT key, value FROM ruleset_proposals, jsonb_each_text(files) WHERE id = \(id)") {
            proposal.files[try row.decode(0)] = try row.decode(1)
        }
        return proposal
    }

    /// Approved proposals no server has made live yet (nor refused), oldest decision first.
    public static func awaitingActivation(on db: PostgresConnection) async throws -> [Int64] {
        try await db.query(
            """
            SELECT id FROM ruleset_proposals WHERE status = 'approved' AND activated_at IS NULL AND activation_error IS NULL
            ORDER BY decided_at, id
            """
        ).map { try $0.decode(0) }
    }

    /// Records that a server made the proposal live (inside the caller's transaction).
    public static func markActivated(_ id: Int64, on db: isolated PostgresConnection) throws {
        try db.execute("UPDATE ruleset_proposals SET activated_at = now() WHERE id = \(id) AND activated_at IS NULL")
    }

    /// Records why a server refused the approved proposal (the live ruleset stayed).
    public static func markActivationFailed(_ id: Int64, reason: String, on db: isolated PostgresConnection) throws {
        try db.execute("UPDATE ruleset_proposals SET activation_error = \(reason) WHERE id = \(id) AND activated_at IS NULL")
    }

    /// The newest approved proposal that went live: what a `--four-eyes` server starts with.
    public static func latestActivated(on db: PostgresConnection) async throws -> Int64? {
        try await db.query(
            "SELECT id FROM ruleset_proposals WHERE status = 'approved' AND activated_at IS NOT NULL ORDER BY activated_at DESC, id DESC LIMIT 1"
        ).first?.decode(0)
    }

    /// The version a new proposal builds on: the newest of the last activation and the
    /// last approval that a server has not refused (approved, maybe not live yet).
    static func targetVersion(_ db: isolated PostgresConnection) throws -> String? {
        try db.query(
            """
            SELECT version FROM (
              SELECT version, live_at AS at, 1 AS activation FROM ruleset_activations
              UNION ALL
              SELECT version, decided_at, 0 FROM ruleset_proposals WHERE status = 'approved' AND activation_error IS NULL
            ) t ORDER BY at DESC, activation DESC LIMIT 1
            """
        ).first?.decodeIfPresent(0)
    }

    /// Serializes proposals and decisions for the rest of the transaction.
    private static func lock(_ db: isolated PostgresConnection) throws {
        _ = try db.query("SELECT pg_advisory_xact_lock(7418001800)")
    }

    private static func decode(_ row: PostgresRow) throws -> RulesetProposal {
        RulesetProposal(
            id: try row.decode(0), version: try row.decode(1), baseVersion: try row.decodeIfPresent(2), message: try row.decode(3),
            proposedBy: try row.decode(4), proposerVerified: try row.decode(5), proposedAt: try row.decode(6), checksJSON: try row.decode(7),
            backtestJSON: try row.decodeIfPresent(8), status: RulesetProposal.Status(rawValue: try row.decode(9)) ?? .proposed,
            decidedBy: try row.decodeIfPresent(10), decidedAt: try row.decodeIfPresent(11), decisionNote: try row.decodeIfPresent(12),
            activatedAt: try row.decodeIfPresent(13), activationError: try row.decodeIfPresent(14))
    }
}
