import PostgresStore
import VigilCore

/// One page of a list: its items and, when more follow, the cursor of the next page.
public struct Page: Sendable {
    /// The items, newest first.
    public var items: [JSON]
    /// The next page's cursor; nil on the last page.
    public var nextCursor: String?

    /// `{"items":[...],"next_cursor":...}`.
    public var json: JSON { .object([("items", .array(items)), ("next_cursor", .string(nextCursor))]) }
}

/// The investigator API's reads and actions, each one query or one transaction on a
/// connection of the API's pool (or of a CLI command).
public enum CaseStore {
    /// Alerts matching `filter`, newest first, each with its case's status and assignee.
    public static func alerts(_ filter: ListFilter, on db: PostgresConnection) async throws -> Page {
        let rows = try await db.query(
            """
            SELECT a.id, a.transaction_id, a.account_id, a.amount_minor, a.currency, a.severity, a.total_score,
                   a.rules::text, a.decision, a.ruleset_version, a.created_at, a.case_id, c.status, c.assignee
              FROM alerts a JOIN cases c ON c.id = a.case_id
             WHERE (\(filter.before)::bigint IS NULL OR a.id < \(filter.before))
               AND (\(filter.status?.rawValue)::text IS NULL OR c.status = \(filter.status?.rawValue))
               AND (\(filter.severity?.rawValue)::text IS NULL OR a.severity = \(filter.severity?.rawValue))
               AND (\(filter.rule)::text IS NULL OR a.rules @> jsonb_build_array(jsonb_build_object('rule', \(filter.rule)::text)))
               AND (\(filter.assignee)::text IS NULL OR c.assignee = \(filter.assignee))
               AND (\(filter.account)::text IS NULL OR a.account_id = \(filter.account))
               AND (\(filter.from)::timestamptz IS NULL OR a.created_at >= \(filter.from))
               AND (\(filter.to)::timestamptz IS NULL OR a.created_at < \(filter.to))
             ORDER BY a.id DESC LIMIT \(filter.limit + 1)
            """)
        var items: [JSON] = []
        var lastID: Int64?
        for row in rows.prefix(filter.limit) {
            let id: Int64 = try row.decode(0)
            lastID = id
            items.append(
                .object([
                    ("id", .int(id)), ("transaction_id", .string(try row.decode(1, as: String.self))),
                    ("account_id", .string(try row.decode(2, as: String.self))),
                    ("amount", amount(try row.decode(3), try row.decode(4))), ("currency", .string(try row.decode(4, as: String.self))),
                    ("severity", .string(try row.decode(5, as: String.self))), ("total_score", .int(try row.decode(6, as: Int64.self))),
                    ("rules", ruleIDs(try row.decode(7))), ("decision", .string(try row.decodeIfPresent(8, as: String.self))),
                    ("ruleset_version", .string(try row.decode(9, as: String.self))), ("created_at", .time(try row.decode(10))),
                    ("case_id", .int(try row.decode(11, as: Int64.self))), ("status", .string(try row.decode(12, as: String.self))),
                    ("assignee", .string(try row.decodeIfPresent(13, as: String.self))),
                ]))
        }
        return Page(items: items, nextCursor: rows.count > filter.limit ? lastID.map(ListFilter.cursor(after:)) : nil)
    }

    /// Cases matching `filter`, newest first. `rule` keeps cases with an alert of that rule;
    /// `from`/`to` bound when the case was opened.
    public static func cases(_ filter: ListFilter, on db: PostgresConnection) async throws -> Page {
        let rows = try await db.query(
            """
            SELECT c.id, c.account_id, c.status, c.assignee, c.severity, c.max_score, c.alert_count, c.disposition,
                   c.opened_at, c.last_alert_at, c.updated_at, c.revision
              FROM cases c
             WHERE (\(filter.before)::bigint IS NULL OR c.id < \(filter.before))
               AND (\(filter.status?.rawValue)::text IS NULL OR c.status = \(filter.status?.rawValue))
               AND (\(filter.severity?.rawValue)::text IS NULL OR c.severity = \(filter.severity?.rawValue))
               AND (\(filter.rule)::text IS NULL OR EXISTS (
                        SELECT 1 FROM alerts a WHERE a.case_id = c.id
                           AND a.rules @> jsonb_build_array(jsonb_build_object('rule', \(filter.rule)::text))))
               AND (\(filter.assignee)::text IS NULL OR c.assignee = \(filter.assignee))
               AND (\(filter.account)::text IS NULL OR c.account_id = \(filter.account))
               AND (\(filter.from)::timestamptz IS NULL OR c.opened_at >= \(filter.from))
               AND (\(filter.to)::timestamptz IS NULL OR c.opened_at < \(filter.to))
             ORDER BY c.id DESC LIMIT \(filter.limit + 1)
            """)
        var items: [JSON] = []
        var lastID: Int64?
        for row in rows.prefix(filter.limit) {
            let summary = try caseSummary(row)
            lastID = try row.decode(0, as: Int64.self)
            items.append(summary)
        }
        return Page(items: items, nextCursor: rows.count > filter.limit ? lastID.map(ListFilter.cursor(after:)) : nil)
    }

    /// A case row (`c.id, c.account_id, c.status, c.assignee, c.severity, c.max_score, c.alert_count,
    /// c.disposition, c.opened_at, c.last_alert_at, c.updated_at, c.revision`) as JSON.
    static func caseSummary(_ row: PostgresRow) throws -> JSON {
        .object([
            ("id", .int(try row.decode(0, as: Int64.self))), ("account_id", .string(try row.decode(1, as: String.self))),
            ("status", .string(try row.decode(2, as: String.self))), ("assignee", .string(try row.decodeIfPresent(3, as: String.self))),
            ("severity", .string(try row.decode(4, as: String.self))), ("max_score", .int(try row.decode(5, as: Int64.self))),
            ("alert_count", .int(try row.decode(6, as: Int64.self))), ("disposition", .string(try row.decodeIfPresent(7, as: String.self))),
            ("opened_at", .time(try row.decode(8))), ("last_alert_at", .time(try row.decode(9))), ("updated_at", .time(try row.decode(10))),
            ("revision", .int(try row.decode(11, as: Int64.self))),
        ])
    }

    /// Minor units as decimal text by the currency's exponent (the code itself when unknown).
    static func amount(_ minor: Int64, _ code: String) -> JSON {
        guard let currency = Currency(code: code) else { return .string(String(minor)) }
        return .string(Money(minorUnits: minor, currency: currency).decimalString)
    }

    /// The rule ids of an `alerts.rules` array.
    static func ruleIDs(_ rulesJSON: String) -> JSON {
        .array(AlertRules.parse(rulesJSON).map { .string($0.rule) })
    }
}
