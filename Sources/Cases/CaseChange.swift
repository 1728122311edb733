import Foundation

/// One thing an investigator does to a case.
public enum CaseChange: Sendable, Equatable {
    /// Assign to a name (a token's name, usually), or unassign with nil.
    case assign(String?)
    /// Append a note (notes are never edited or removed).
    case note(String)
    /// Move between `open` and `in_review` (closing takes a disposition: ``close(_:reason:)``).
    case status(CaseStatus)
    /// Close with a disposition; `reason` is required unless the disposition is `fraud`.
    case close(Disposition, reason: String?)

    /// The history's `kind` for this change.
    var eventKind: String {
        switch self {
        case .assign: "assigned"
        case .note: "note"
        case .status: "status"
        case .close: "disposed"
        }
    }

    /// Refuses values no case should hold: empty or oversized text, control characters in names.
    func validate() throws(CaseError) {
        func bad(_ message: String) -> CaseError { CaseError(.invalidRequest, code: "invalid_request", message: message) }
        switch self {
        case .assign(let name?):
            guard !name.isEmpty, name.count <= 200, !name.unicodeScalars.contains(where: { $0.value < 0x20 }) else {
                throw bad("an assignee is a name of 1 to 200 characters without control characters (null unassigns)")
            }
        case .assign(nil): return
        case .note(let text):
            guard !text.trimmingCharacters(in: .whitespacesAndNewlines).isEmpty, text.count <= 10_000 else {
                throw bad("a note is 1 to 10,000 characters of text")
            }
        case .status(let status):
            guard status != .closed else {
                throw bad("a case is closed with a disposition: POST /api/v1/cases/{id}/close {\"disposition\":…,\"reason\":…}")
            }
        case .close(_, let reason):
            guard (reason ?? "").count <= 10_000 else { throw bad("a reason is at most 10,000 characters") }
        }
    }
}
