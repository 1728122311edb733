import Foundation
import VigilCore

/// The filters and page of a list request (`GET /api/v1/alerts`, `/cases`, `vigil cases list`).
///
/// Pages are keyset pages on the id, newest first: the cursor names the last id seen, so a
/// page never repeats or skips an item when alerts arrive between requests (new ones have
/// larger ids and only appear on a fresh first page), and no query scans past an OFFSET.
public struct ListFilter: Sendable, Equatable {
    /// Only cases (or alerts of cases) with this status.
    public var status: CaseStatus?
    /// Only this severity (a case's is the highest of its alerts).
    public var severity: Severity?
    /// Only alerts one of whose alerting rules is this one (for cases: that have such an alert).
    public var rule: String?
    /// Only cases assigned to this name.
    public var assignee: String?
    /// Only this account.
    public var account: String?
    /// Created at or after.
    public var from: Timestamp?
    /// Created before.
    public var to: Timestamp?
    /// Page size, 1...500.
    public var limit: Int = 50
    /// Ids below this one (the previous page's cursor).
    public var before: Int64?

    /// The names a request may use.
    public static let names = ["status", "severity", "rule", "assignee", "account", "from", "to", "limit", "cursor"]

    /// An empty filter: the newest 50.
    public init() {}

    /// Reads query parameters; unknown names, repeated names and bad values are refused
    /// with a message naming the parameter.
    public init(parameters: [(name: String, value: String)]) throws(CaseError) {
        var seen: Set<String> = []
        for (name, value) in parameters {
            guard Self.names.contains(name) else {
                throw CaseError(
                    .invalidRequest, code: "unknown_filter",
                    message: "unknown query parameter '\(name)'; the filters are \(Self.names.joined(separator: ", "))")
            }
            guard seen.insert(name).inserted else {
                throw CaseError(.invalidRequest, code: "invalid_filter", message: "query parameter '\(name)' is given twice; give it once")
            }
            try set(name, value)
        }
        if let from, let to, to <= from {
            throw CaseError(.invalidRequest, code: "invalid_filter", message: "'to' (\(to)) must be after 'from' (\(from))")
        }
    }

    private mutating func set(_ name: String, _ value: String) throws(CaseError) {
        func bad(_ expected: String) -> CaseError {
            CaseError(.invalidRequest, code: "invalid_filter", message: "query parameter '\(name)' is '\(value)'; expected \(expected)")
        }
        switch name {
        case "status":
            guard let status = CaseStatus(rawValue: value) else { throw bad(CaseStatus.allCases.map(\.rawValue).joined(separator: ", ")) }
            self.status = status
        case "severity":
            guard let severity = Severity(rawValue: value) else { throw bad("low, medium, high or critical") }
            self.severity = severity
        case "rule", "assignee", "account":
            guard !value.isEmpty, value.count <= 200, !value.unicodeScalars.contains(where: { $0.value < 0x20 }) else {
                throw bad("a non-empty name of at most 200 characters")
            }
            if name == "rule" { rule = value } else if name == "assignee" { assignee = value } else { account = value }
        case "from", "to":
            guard let time = RFC3339.parse(value) else { throw bad("an RFC 3339 time such as 2026-12-01T00:00:00Z") }
            if name == "from" { from = time } else { to = time }
        case "limit":
            guard let limit = Int(value), (1...500).contains(limit) else { throw bad("a number from 1 to 500") }
            self.limit = limit
        default:  // cursor
            guard let id = Self.decodeCursor(value) else {
                throw bad("a cursor returned as 'next_cursor' by an earlier page (it is opaque: do not build one)")
            }
            before = id
        }
    }

    /// The cursor that continues after `id`.
    public static func cursor(after id: Int64) -> String {
        Data("v1:\(id)".utf8).base64EncodedString().replacingOccurrences(of: "+", with: "-").replacingOccurrences(of: "/", with: "_")
            .replacingOccurrences(of: "=", with: "")
    }

    static func decodeCursor(_ text: String) -> Int64? {
        guard !text.isEmpty, text.count <= 40 else { return nil }
        var base64 = text.replacingOccurrences(of: "-", with: "+").replacingOccurrences(of: "_", with: "/")
        while base64.count % 4 != 0 { base64 += "=" }
        guard let data = Data(base64Encoded: base64), let decoded = String(data: data, encoding: .utf8), decoded.hasPrefix("v1:"),
            let id = Int64(decoded.dropFirst(3)), id > 0
        else { return nil }
        return id
    }
}
