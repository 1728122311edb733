import Foundation
import PostgresStore
import VigilCore

/// The alert page's case section: the case the alert belongs to (status, assignee,
/// disposition, history) and the explain traces stored with the alert (`alerts.evidence`),
/// read in two queries.
struct CasePanel: Sendable {
    struct Event: Sendable {
        let at: String
        let actor: String
        let kind: String
        let change: String
        let note: String?
    }

    struct TraceLine: Sendable {
        let indent: String
        let expr: String
        let value: String
    }

    struct Trace: Sendable {
        let rule: String
        let lines: [TraceLine]
    }

    let caseID: Int64
    let status: String
    let assignee: String?
    let disposition: String?
    let reason: String?
    let alertCount: Int
    let revision: Int
    let history: [Event]
    let traces: [Trace]
    /// The enrichment values the rules saw, `name = value`.
    let values: [String]

    static func load(alertID: Int64, on db: PostgresConnection) async throws -> CasePanel? {
        guard
            let row = try await db.query(
                """
                SELECT c.id, c.status, c.assignee, c.disposition, c.disposition_reason, c.alert_count, c.revision, a.evidence::text
                  FROM alerts a JOIN cases c ON c.id = a.case_id WHERE a.id = \(alertID)
                """
            ).first
        else { return nil }
        let caseID: Int64 = try row.decode(0)
        let history = try await db.query(
            "SELECT at, actor, kind, from_value, to_value, note FROM case_events WHERE case_id = \(caseID) ORDER BY id"
        ).map { event in
            let from: String? = try event.decodeIfPresent(3)
            let to: String? = try event.decodeIfPresent(4)
            let change = [from.map { "from \($0)" }, to.map { "to \($0)" }].compactMap { $0 }.joined(separator: " ")
            return Event(
                at: RFC3339.format(try event.decode(0, as: Timestamp.self)), actor: try event.decode(1), kind: try event.decode(2),
                change: change, note: try event.decodeIfPresent(5))
        }
        let evidence = try row.decodeIfPresent(7, as: String.self).flatMap {
            (try? JSONSerialization.jsonObject(with: Data($0.utf8))) as? [String: Any]
        }
        return CasePanel(
            caseID: caseID, status: try row.decode(1), assignee: try row.decodeIfPresent(2), disposition: try row.decodeIfPresent(3),
            reason: try row.decodeIfPresent(4), alertCount: try row.decode(5), revision: try row.decode(6), history: history,
            traces: traces(evidence), values: values(evidence))
    }

    static func traces(_ evidence: [String: Any]?) -> [Trace] {
        ((evidence?["explain"] as? [[String: Any]]) ?? []).compactMap { entry in
            guard let rule = entry["rule"] as? String, let lines = entry["trace"] as? [[String: Any]] else { return nil }
            return Trace(
                rule: rule,
                lines: lines.map { line in
                    let depth = (line["depth"] as? Int) ?? 0
                    return TraceLine(
                        indent: String(repeating: "  ", count: depth), expr: line["expr"] as? String ?? "", value: text(line["value"]))
                })
        }
    }

    static func values(_ evidence: [String: Any]?) -> [String] {
        ((evidence?["values"] as? [String: Any]) ?? [:]).sorted { $0.key < $1.key }.map { "\($0.key) = \(text($0.value))" }
    }

    /// A JSON value as the trace shows it.
    static func text(_ value: Any?) -> String {
        switch value {
        case nil, is NSNull: return "missing"
        case let string as String: return string
        case let object as [String: Any]: return "error: \(object["error"] as? String ?? "?")"
        case let number as NSNumber:
            return String(cString: number.objCType) == "c" ? (number.boolValue ? "true" : "false") : number.stringValue
        default: return "\(value ?? "")"
        }
    }
}
