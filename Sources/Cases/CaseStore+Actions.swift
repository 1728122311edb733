import Access
import PostgresStore
import VigilCore

extension CaseStore {
    /// Applies `change` to case `id` as `actor` (from `remoteAddress`, over HTTP), in one
    /// transaction that locks the case row:
    /// two investigators changing one case are serialized, and each change is checked
    /// against the state the other left (closing a closed case is refused, never lost).
    /// With `expectedRevision` (the API's `If-Match`), a change made on a stale view is
    /// refused with 409. Writes the history event and the lifecycle webhooks
    /// (`case.updated`; `alert.disposed` for each alert on closing) and the audit-log row in
    /// the same transaction.
    /// Returns the case as it now is.
    public static func apply(
        _ change: CaseChange, toCase id: Int64, expectedRevision: Int64? = nil, by actor: String, remoteAddress: String? = nil,
        on db: PostgresConnection
    ) async throws -> JSON {
        try change.validate()
        return try await db.transaction { db in
            let rows = try db.query("SELECT status, assignee, revision, disposition, disposed_by FROM cases WHERE id = \(id) FOR UPDATE")
            guard let row = rows.first else {
                throw CaseError(.notFound, code: "not_found", message: "no case \(id); list cases with GET /api/v1/cases")
            }
            let status = CaseStatus(rawValue: try row.decode(0, as: String.self)) ?? .open
            let assignee: String? = try row.decodeIfPresent(1)
            let revision: Int64 = try row.decode(2)
            if let expectedRevision, expectedRevision != revision {
                throw CaseError(
                    .conflict, code: "revision_mismatch",
                    message: "case \(id) is at revision \(revision), not \(expectedRevision): it changed since you read it; reload it and retry")
            }
            if status == .closed, change.eventKind != "note" {
                let by: String = try row.decodeIfPresent(4) ?? "someone"
                let disposition: String = try row.decodeIfPresent(3) ?? "?"
                throw CaseError(
                    .conflict, code: "case_closed",
                    message: "case \(id) is already closed (\(disposition), by \(by)); a closed case is final — add a note if there is more to say")
            }
            var from: String?
            var to: String?
            var note: String?
            switch change {
            case .assign(let name):
                // Assigning to whom it already is changes nothing: a retried request is not an error.
                if name == assignee { return try summary(id, on: db) }
                from = assignee
                to = name
                try db.execute("UPDATE cases SET assignee = \(name), revision = revision + 1, updated_at = now() WHERE id = \(id)")
            case .note(let text):
                note = text
                try db.execute("UPDATE cases SET revision = revision + 1, updated_at = now() WHERE id = \(id)")
            case .status(let target):
                guard target != status else {
                    throw CaseError(.conflict, code: "invalid_transition", message: "case \(id) is already \(status.rawValue)")
                }
                from = status.rawValue
                to = target.rawValue
                try db.execute("UPDATE cases SET status = \(target.rawValue), revision = revision + 1, updated_at = now() WHERE id = \(id)")
            case .close(let disposition, let reason):
                let reason = reason.flatMap { $0.isEmpty ? nil : $0 }
                if disposition.requiresReason, reason == nil {
                    throw CaseError(
                        .conflict, code: "reason_required",
                        message: "closing case \(id) as \(disposition.rawValue) needs a reason (say why it is not fraud, for the rule's review)")
                }
                from = status.rawValue
                to = disposition.rawValue
                note = reason
                try db.execute(
                    """
                    UPDATE cases SET status = 'closed', disposition = \(disposition.rawValue), disposition_reason = \(reason),
                           disposed_by = \(actor), disposed_at = now(), revision = revision + 1, updated_at = now()
                     WHERE id = \(id)
                    """)
            }
            try db.execute(
                """
                INSERT INTO case_events (case_id, actor, kind, from_value, to_value, note)
                VALUES (\(id), \(actor), \(change.eventKind), \(from), \(to), \(note))
                """)
            try LifecycleWebhooks.enqueue(caseID: id, kind: change.eventKind, from: from, to: to, actor: actor, on: db)
            // Also in the audit log, with every other change made over the API or the CLI.
            let detail = JSON.object([("from", .string(from)), ("to", .string(to))]).text
            try AuditLog.record(
                "case.\(change.eventKind)", target: "case:\(id)", detail: detail, by: Actor(name: actor, remoteAddress: remoteAddress), on: db)
            return try summary(id, on: db)
        }
    }

    /// The case's summary, read inside a transaction.
    static func summary(_ id: Int64, on db: isolated PostgresConnection) throws -> JSON {
        let rows = try db.query(
            """
            SELECT c.id, c.account_id, c.status, c.assignee, c.severity, c.max_score, c.alert_count, c.disposition,
                   c.opened_at, c.last_alert_at, c.updated_at, c.revision
              FROM cases c WHERE c.id = \(id)
            """)
        guard let row = rows.first else { throw CaseError(.notFound, code: "not_found", message: "no case \(id)") }
        return try caseSummary(row)
    }
}
