import Detection
import Foundation
import PostgresStore
import RuleLanguage
import VigilCore

/// One recorded change to a reference table (`reference_history`): the row before and
/// after, each already read into the fields detection uses.
struct ReferenceChange: Sendable {
    var table: String
    var changedAt: Timestamp
    var before: ReferenceImage?
    var after: ReferenceImage?
}

/// A reference row as detection reads it (only the columns `DetectionStore.loadReference` uses).
struct ReferenceImage: Sendable {
    /// The row's key: account or merchant id, currency, list name; for a list entry, the list name.
    var key: String
    /// A list entry's value.
    var value: String?
    var openedAt: Timestamp?
    var homeCountry: String?
    var riskTier: String?
    var timeZone: String?
    var riskLevel: String?
    var country: String?
    var baseCurrency: String?
    var rate: String?
}

/// Reference data as it was at each moment of a period: the snapshot at its start (today's
/// tables with every later change undone) and the changes after it, applied in order as
/// the replay passes their time.
public struct ReferenceTimeline: Sendable {
    /// The reference data in force at the start.
    public private(set) var initial: ReferenceSnapshot
    /// Changes after the start, oldest first.
    var changes: [ReferenceChange]
    /// When recording began (the oldest change kept), `nil` when nothing was ever recorded.
    public var recordedSince: Timestamp?

    /// Reads the timeline from `start` on: today's reference data and the history after `start`.
    public static func load(from db: PostgresConnection, baseCurrency: String, start: Timestamp) async throws -> ReferenceTimeline {
        var current = try await DetectionStore.loadReference(from: db, baseCurrency: baseCurrency)
        let oldest = try await db.query("SELECT (extract(epoch FROM min(changed_at)) * 1000000)::bigint FROM reference_history")
        let since: Int64? = try oldest.first?.decodeIfPresent(0)
        let later = try await changes(from: db, after: start)
        var zones = ZoneCache()
        for change in later.reversed() { current.apply(change.table, remove: change.after, insert: change.before, zones: &zones) }
        current.loadedAt = start
        return ReferenceTimeline(initial: current, changes: later, recordedSince: since.map { Timestamp(microsecondsSinceEpoch: $0) })
    }

    private static func changes(from db: PostgresConnection, after start: Timestamp) async throws -> [ReferenceChange] {
        // Each image's columns as `loadReference` reads them (a rate rounded to 6 places).
        let rows = try await db.query(
            """
            SELECT table_name, (extract(epoch FROM changed_at) * 1000000)::bigint, old_row IS NOT NULL, new_row IS NOT NULL,
                   coalesce(o->>'id', o->>'currency', o->>'list_name', o->>'name'), o->>'value',
                   (extract(epoch FROM (o->>'opened_at')::timestamptz) * 1000000)::bigint, o->>'home_country', o->>'risk_tier',
                   o->>'timezone', o->>'risk_level', o->>'country', o->>'base_currency', round((o->>'rate')::numeric, 6)::text,
                   coalesce(n->>'id', n->>'currency', n->>'list_name', n->>'name'), n->>'value',
                   (extract(epoch FROM (n->>'opened_at')::timestamptz) * 1000000)::bigint, n->>'home_country', n->>'risk_tier',
                   n->>'timezone', n->>'risk_level', n->>'country', n->>'base_currency', round((n->>'rate')::numeric, 6)::text
            FROM reference_history, LATERAL (SELECT old_row AS o, new_row AS n) images
            WHERE changed_at > \(start)
            ORDER BY seq
            """)
        var result: [ReferenceChange] = []
        for row in rows {
            func read(_ offset: Int) throws -> ReferenceImage {
                ReferenceImage(
                    key: try row.decodeIfPresent(offset) ?? "", value: try row.decodeIfPresent(offset + 1),
                    openedAt: (try row.decodeIfPresent(offset + 2, as: Int64.self)).map { Timestamp(microsecondsSinceEpoch: $0) },
                    homeCountry: try row.decodeIfPresent(offset + 3), riskTier: try row.decodeIfPresent(offset + 4),
                    timeZone: try row.decodeIfPresent(offset + 5), riskLevel: try row.decodeIfPresent(offset + 6),
                    country: try row.decodeIfPresent(offset + 7), baseCurrency: try row.decodeIfPresent(offset + 8),
                    rate: try row.decodeIfPresent(offset + 9))
            }
            result.append(
                ReferenceChange(
                    table: try row.decode(0), changedAt: Timestamp(microsecondsSinceEpoch: try row.decode(1)),
                    before: try row.decode(2, as: Bool.self) ? try read(4) : nil,
                    after: try row.decode(3, as: Bool.self) ? try read(14) : nil))
        }
        return result
    }
}

/// Time zones by name, created once each.
struct ZoneCache: Sendable {
    private var zones: [String: TimeZone] = [:]

    mutating func zone(_ name: String?) -> TimeZone? {
        guard let name else { return nil }
        if let known = zones[name] { return known }
        let zone = TimeZone(identifier: name)
        zones[name] = zone
        return zone
    }
}

extension ReferenceSnapshot {
    /// Applies one change: `remove` is the row image that goes, `insert` the one that comes
    /// (forwards: before → after; backwards: after → before).
    mutating func apply(_ table: String, remove: ReferenceImage?, insert: ReferenceImage?, zones: inout ZoneCache) {
        switch table {
        case "accounts":
            if let remove { accounts[remove.key] = nil }
            if let row = insert {
                accounts[row.key] = AccountInfo(
                    openedAt: row.openedAt, homeCountry: row.homeCountry?.trimmed, riskTier: row.riskTier, timeZone: zones.zone(row.timeZone))
            }
        case "merchants":
            if let remove { merchants[remove.key] = nil }
            if let row = insert { merchants[row.key] = MerchantInfo(riskLevel: row.riskLevel, country: row.country?.trimmed) }
        case "fx_rates":
            if let remove { fxRates[remove.key.trimmed] = nil }
            if let row = insert, row.baseCurrency?.trimmed == baseCurrency, let text = row.rate, let rate = DecimalValue(parsing: text), rate > .zero
            {
                fxRates[row.key.trimmed] = rate
            }
        case "lists":
            if let remove { lists[remove.key] = nil }
            if let row = insert, lists[row.key] == nil { lists[row.key] = [] }
        case "list_entries":
            if let remove, let value = remove.value { lists[remove.key]?.remove(value) }
            if let row = insert, let value = row.value { lists[row.key, default: []].insert(value) }
        default:
            break
        }
    }
}

extension String {
    /// Without the padding a `char(n)` column keeps.
    fileprivate var trimmed: String { trimmingCharacters(in: .whitespaces) }
}
