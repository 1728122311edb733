import Foundation
import PostgresStore
import VigilCore

/// The queue's query: alerts by severity (highest first), then newest, filtered, a page at
/// a time by keyset (the last row's rank and id), which stays fast however deep one pages
/// and never skips or repeats a row when alerts arrive in between.
///
/// Filters are nullable parameters of one static statement; the case's status and
/// assignee are read from `cases` (docs/api.md).
public struct AlertQueue: Sendable {
    /// What the analyst filtered by; nil means any.
    public struct Filter: Sendable, Equatable {
        public var severity: Severity?
        public var rule: String?
        /// The alert's case status (`open`, `in_review`, `closed`) and assignee.
        public var status: String?
        public var assignee: String?
        /// Creates a filter.
        public init(severity: Severity? = nil, rule: String? = nil, status: String? = nil, assignee: String? = nil) {
            self.severity = severity
            self.rule = rule
            self.status = status
            self.assignee = assignee
        }
        public var isEmpty: Bool { severity == nil && rule == nil && status == nil && assignee == nil }
    }

    /// Where a page starts: after the row with this severity rank and id.
    public struct Cursor: Sendable, Equatable {
        public var rank: Int
        public var id: Int64
        /// Parses `rank.id` as the queue's links carry it.
        public init?(_ text: String) {
            let parts = text.split(separator: ".")
            guard parts.count == 2, let rank = Int(parts[0]), (0...3).contains(rank), let id = Int64(parts[1]), id > 0 else { return nil }
            self.rank = rank
            self.id = id
        }
        public init(rank: Int, id: Int64) {
            self.rank = rank
            self.id = id
        }
        public var text: String { "\(rank).\(id)" }
    }

    /// One alert in the queue.
    public struct Row: Sendable, Equatable {
        public var id: Int64
        public var rank: Int
        public var transactionID: String
        public var accountID: String
        public var amountMinor: Int64
        public var currency: String
        public var severity: String
        public var score: Int
        public var rules: [String]
        public var createdAt: Timestamp
    }

    /// Alerts per page.
    public static let pageSize = 50

    /// One page after `cursor` (the first when nil), and whether more follow.
    public static func page(_ filter: Filter, after cursor: Cursor?, limit: Int = pageSize, on db: PostgresConnection) async throws -> (
        rows: [Row], more: Bool
    ) {
        let severity = filter.severity?.rawValue
        let rulePattern = filter.rule.map { "[{\"rule\":\(JSONText.quoted($0))}]" }
        let rows = try await db.query(
            """
            SELECT id, vigil_severity_rank(severity), transaction_id, account_id, amount_minor, currency, severity, total_score,
                   ARRAY(SELECT r->>'rule' FROM jsonb_array_elements(rules) r), created_at
            FROM alerts
            WHERE (\(severity)::text IS NULL OR severity = \(severity)::text)
              AND (\(filter.status)::text IS NULL OR case_id IN (SELECT id FROM cases WHERE status = \(filter.status)::text))
              AND (\(filter.assignee)::text IS NULL OR case_id IN (SELECT id FROM cases WHERE assignee = \(filter.assignee)::text))
              AND (\(rulePattern)::jsonb IS NULL OR rules @> \(rulePattern)::jsonb)
              AND (\(cursor?.rank)::int IS NULL OR (vigil_severity_rank(severity), id) < (\(cursor?.rank)::int, \(cursor?.id)::bigint))
            ORDER BY vigil_severity_rank(severity) DESC, id DESC
            LIMIT \(limit + 1)
            """)
        let decoded = try rows.map { row in
            Row(
                id: try row.decode(0), rank: try row.decode(1), transactionID: try row.decode(2), accountID: try row.decode(3),
                amountMinor: try row.decode(4), currency: try row.decode(5), severity: try row.decode(6), score: try row.decode(7),
                rules: try row.decode(8, as: PostgresTextArray.self).elements, createdAt: try row.decode(9))
        }
        return (Array(decoded.prefix(limit)), decoded.count > limit)
    }

    /// The rules that raised alerts in the last 7 days, for the filter's choices.
    public static func recentRules(on db: PostgresConnection) async throws -> [String] {
        try await db.query(
            "SELECT rule_id FROM rule_hits WHERE created_at >= now() - interval '7 days' AND mode = 'alert' GROUP BY rule_id ORDER BY rule_id"
        ).map { try $0.decode(0) }
    }
}
