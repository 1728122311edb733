import Foundation
import PostgresStore
import RuleLanguage
import VigilCore

/// The rules page's figures: hits per rule and hour over the last 24 hours (alert and
/// shadow apart), 7-day totals, precision per day over 30 days, the live ruleset version
/// and its diff from the one before.
public struct RuleStats: Sendable {
    /// One rule's counts.
    public struct Rule: Sendable, Equatable {
        public var id: String
        /// Hits per hour, oldest first: 24 buckets ending with the current hour.
        public var alertByHour: [Int]
        public var shadowByHour: [Int]
        public var week: Int
        /// Dispositions of the alerts this rule hit (alert or shadow mode), by the UTC day the
        /// alert was raised: `RuleStats.days` days, oldest first, ending today; nil where
        /// none of that day's alerts is disposed yet.
        public var precisionByDay: [PrecisionChart.Day?] = Array(repeating: nil, count: RuleStats.days)
        public var alert: Int { alertByHour.reduce(0, +) }
        public var shadow: Int { shadowByHour.reduce(0, +) }

        init(id: String) {
            self.id = id
            self.alertByHour = Array(repeating: 0, count: 24)
            self.shadowByHour = Array(repeating: 0, count: 24)
            self.week = 0
        }

        /// The last 7 days of `precisionByDay` (today and the 6 before) added up.
        public var lastWeek: PrecisionChart.Day {
            precisionByDay.suffix(7).compactMap { $0 }.reduce(into: PrecisionChart.Day(date: "")) { total, day in
                total.fraud += day.fraud
                total.legitimate += day.legitimate
                total.inconclusive += day.inconclusive
            }
        }
    }

    /// How many UTC days the precision chart covers, today included.
    public static let days = 30

    /// The live version and how it became live.
    public struct Version: Sendable {
        public var name: String
        public var liveAt: Timestamp
        public var author: String
        public var how: String
        public var message: String?
    }

    public var rules: [Rule]
    public var version: Version?
    /// The unified diff from the previous live version (nil: none, or texts not recorded).
    public var diff: (from: String, to: String, text: String)?
    /// Why there is no diff, for the page.
    public var diffNote: String

    /// Reads the figures.
    public static func load(on db: PostgresConnection) async throws -> RuleStats {
        var byRule: [String: Rule] = [:]
        let hourly = try await db.query(
            """
            SELECT rule_id, mode, floor(extract(epoch FROM date_trunc('hour', now()) - date_trunc('hour', created_at)) / 3600)::int, count(*)
            FROM rule_hits WHERE created_at >= date_trunc('hour', now()) - interval '23 hours'
            GROUP BY 1, 2, 3
            """)
        for row in hourly {
            let id: String = try row.decode(0)
            let hoursAgo: Int = try row.decode(2)
            guard (0..<24).contains(hoursAgo) else { continue }
            var rule = byRule[id] ?? Rule(id: id)
            let count: Int = try row.decode(3)
            if try row.decode(1, as: String.self) == "shadow" {
                rule.shadowByHour[23 - hoursAgo] += count
            } else {
                rule.alertByHour[23 - hoursAgo] += count
            }
            byRule[id] = rule
        }
        for row in try await db.query("SELECT rule_id, count(*) FROM rule_hits WHERE created_at >= now() - interval '7 days' GROUP BY 1") {
            let id: String = try row.decode(0)
            var rule = byRule[id] ?? Rule(id: id)
            rule.week = try row.decode(1)
            byRule[id] = rule
        }
        try await readPrecision(into: &byRule, on: db)
        var stats = RuleStats(rules: byRule.values.sorted { $0.id < $1.id }, version: nil, diff: nil, diffNote: "")
        let live = try await db.query("SELECT version, live_at, author, how, message FROM ruleset_activations ORDER BY id DESC LIMIT 1")
        guard let current = live.first else {
            stats.diffNote = "No version has been recorded as live yet."
            return stats
        }
        let version = Version(
            name: try current.decode(0), liveAt: try current.decode(1), author: try current.decode(2), how: try current.decode(3),
            message: try current.decodeIfPresent(4))
        stats.version = version
        let previous = try await db.query(
            "SELECT version FROM ruleset_activations WHERE version <> \(version.name) ORDER BY id DESC LIMIT 1"
        ).first.map { try $0.decode(0, as: String.self) }
        guard let previous else {
            stats.diffNote = "This is the first version recorded as live: there is nothing to compare it with."
            return stats
        }
        let old = try await texts(of: previous, on: db)
        let new = try await texts(of: version.name, on: db)
        guard let old, let new else {
            stats.diffNote =
                "The text of \(old == nil ? previous : version.name) was not recorded (it went live before texts were kept, migration 0016)."
            return stats
        }
        stats.diff = (previous, version.name, TextDiff.render(old: old, new: new, oldLabel: previous, newLabel: version.name))
        return stats
    }

    /// A version's texts by file name; nil when not recorded.
    static func texts(of version: String, on db: PostgresConnection) async throws -> [String: String]? {
        guard
            let text = try await db.query("SELECT texts::text FROM ruleset_versions WHERE version = \(version)").first?.decodeIfPresent(
                0, as: String.self),
            let object = try? JSONSerialization.jsonObject(with: Data(text.utf8)) as? [String: Any]
        else { return nil }
        return object.compactMapValues { $0 as? String }
    }
}
