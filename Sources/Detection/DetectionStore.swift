import Foundation
import PostgresStore
import RuleLanguage
import VigilCore

/// Reads and writes detection state in PostgreSQL: reference data, account profiles,
/// and the recent transactions that window state is rebuilt from.
public enum DetectionStore {
    /// The LISTEN channel the reference tables' triggers notify.
    public static let referenceChannel = "vigil_reference"

    /// Reads every reference table into a snapshot.
    public static func loadReference(from db: PostgresConnection, baseCurrency: String) async throws -> ReferenceSnapshot {
        var snapshot = ReferenceSnapshot(baseCurrency: baseCurrency)
        var zones: [String: TimeZone] = [:]
        for row in try await db.query("SELECT id, opened_at, home_country, risk_tier, timezone FROM accounts") {
            let zoneName: String? = try row.decodeIfPresent(4)
            var zone: TimeZone?
            if let zoneName {
                if let known = zones[zoneName] {
                    zone = known
                } else {
                    zone = TimeZone(identifier: zoneName)
                    zones[zoneName] = zone
                }
            }
            snapshot.accounts[try row.decode(0)] = AccountInfo(
                openedAt: try row.decodeIfPresent(1), homeCountry: try row.decodeIfPresent(2),
                riskTier: try row.decodeIfPresent(3), timeZone: zone
            )
        }
        for row in try await db.query("SELECT id, risk_level, country FROM merchants") {
            snapshot.merchants[try row.decode(0)] = MerchantInfo(riskLevel: try row.decodeIfPresent(1), country: try row.decodeIfPresent(2))
        }
        // Rates are exact decimals to 6 places in the rules language; round in SQL so a
        // numeric(24,12) text such as 0.920000000000 parses.
        for row in try await db.query("SELECT currency, round(rate, 6)::text FROM fx_rates WHERE base_currency = \(baseCurrency)") {
            let currency = try row.decode(0, as: String.self).trimmingCharacters(in: .whitespaces)
            let text = try row.decode(1, as: String.self)
            guard let rate = DecimalValue(parsing: text), rate > .zero else {
                snapshot.unreadableRates.append("\(currency)=\(text)")
                continue
            }
            snapshot.fxRates[currency] = rate
        }
        for row in try await db.query("SELECT l.name, e.value FROM lists l LEFT JOIN list_entries e ON e.list_name = l.name") {
            let name: String = try row.decode(0)
            if let value: String = try row.decodeIfPresent(1) {
                snapshot.lists[name, default: []].insert(value)
            } else if snapshot.lists[name] == nil {
                snapshot.lists[name] = []
            }
        }
        snapshot.loadedAt = .now()
        return snapshot
    }

    /// A fingerprint as 16 lowercase hex digits (how a checkpoint stores it).
    static func hex(_ value: UInt64) -> String {
        let digits = String(value, radix: 16)
        return String(repeating: "0", count: max(0, 16 - digits.count)) + digits
    }

    /// Reads every stored account profile.
    public static func loadProfiles(from db: PostgresConnection) async throws -> [String: AccountProfile] {
        var profiles: [String: AccountProfile] = [:]
        for row in try await db.query(
            """
            SELECT account_id, txn_count, mean_amount_base::float8, m2_amount_base::float8, max_amount_base::text,
                   last_country, last_latitude, last_longitude, last_seen, known_devices, known_cards,
                   known_countries, known_merchants, hour_counts, last_located_at,
                   first_seen, rate_week, rate_month, rate_updated_at, channel_stats, known_fingerprints
            FROM account_profiles
            """)
        {
            var p = AccountProfile()
            p.count = try row.decode(1)
            p.mean = try row.decode(2)
            p.m2 = try row.decode(3)
            p.maxAmount = (try row.decodeIfPresent(4, as: String.self)).flatMap { DecimalValue(parsing: $0) }
            p.lastCountry = try row.decodeIfPresent(5)
            p.lastLatitude = try row.decodeIfPresent(6)
            p.lastLongitude = try row.decodeIfPresent(7)
            p.lastSeen = try row.decodeIfPresent(8)
            let fingerprinted: Bool = try row.decode(20)
            let known: [(Int, KnownEntities.Kind)] = [(9, .device), (10, .card), (11, .country), (12, .merchant)]
            for (column, kind) in known {
                for element in try row.decode(column, as: PostgresTextArray.self).elements {
                    // A fingerprint is 16 hex digits below 2^62. Anything else is an id: saved
                    // before migration 0024, or by an older vigil leading after it (it reads and
                    // writes these columns as ids and leaves the flag as it was).
                    if fingerprinted, element.utf8.count == 16, let value = UInt64(element, radix: 16), value < 1 << 62 {
                        p.known.remember(kind, fingerprint: value)
                    } else {
                        p.known.remember(kind, element)
                    }
                }
            }
            let hours = try row.decode(13, as: PostgresTextArray.self).elements.compactMap { Int64($0) }
            p.hours = HourCounts(hours)
            p.lastLocatedAt = try row.decodeIfPresent(14)
            p.firstSeen = try row.decodeIfPresent(15)
            p.rates.week = try row.decode(16)
            p.rates.month = try row.decode(17)
            p.rates.updatedAt = try row.decodeIfPresent(18)
            p.channels = ChannelStats(try row.decode(19, as: PostgresTextArray.self).elements.compactMap { Double($0) })
            profiles[try row.decode(0)] = p
        }
        return profiles
    }

    /// Upserts profiles inside the caller's transaction. `through`: every transaction of
    /// these accounts received at or before it is counted in them.
    public static func saveProfiles(_ profiles: [String: AccountProfile], through: Timestamp?, on db: isolated PostgresConnection) throws {
        guard !profiles.isEmpty else { return }
        var copy = CopyTextEncoder(capacity: profiles.count * 256)
        for (account, p) in profiles {
            copy.append(account)
            copy.append(p.count)
            copy.append(encodable: p.mean)
            copy.append(encodable: p.m2)
            copy.append(p.maxAmount?.description)
            copy.append(p.lastCountry)
            copy.append(encodable: p.lastLatitude)
            copy.append(encodable: p.lastLongitude)
            copy.append(encodable: p.lastSeen)
            for kind in [KnownEntities.Kind.device, .card, .country, .merchant] {
                copy.append(encodable: PostgresTextArray(p.known.fingerprints(kind).map(Self.hex)))
            }
            copy.append("{" + p.hours.values.map(String.init).joined(separator: ",") + "}")
            copy.append(encodable: p.lastLocatedAt)
            copy.append(encodable: through)
            copy.append(encodable: p.firstSeen)
            copy.append(encodable: p.rates.week)
            copy.append(encodable: p.rates.month)
            copy.append(encodable: p.rates.updatedAt)
            copy.append("{" + p.channels.stored.map { "\($0)" }.joined(separator: ",") + "}")
            copy.endRow()
        }
        try db.ensureTemporaryTable("incoming_profiles") {
            try db.execute(
                """
                CREATE TEMPORARY TABLE IF NOT EXISTS incoming_profiles
                (LIKE account_profiles INCLUDING DEFAULTS) ON COMMIT DELETE ROWS
                """)
        }
        try db.copyIn(
            """
            COPY incoming_profiles (account_id, txn_count, mean_amount_base, m2_amount_base, max_amount_base, last_country,
                last_latitude, last_longitude, last_seen, known_devices, known_cards, known_countries, known_merchants,
                hour_counts, last_located_at, checkpoint_through, first_seen, rate_week, rate_month, rate_updated_at,
                channel_stats) FROM STDIN
            """, data: copy.bytes)
        try db.execute(
            """
            INSERT INTO account_profiles AS p (account_id, txn_count, mean_amount_base, m2_amount_base, max_amount_base,
                last_country, last_latitude, last_longitude, last_seen, known_devices, known_cards, known_countries,
                known_merchants, hour_counts, last_located_at, checkpoint_through, first_seen, rate_week, rate_month,
                rate_updated_at, channel_stats, known_fingerprints, updated_at)
            SELECT account_id, txn_count, mean_amount_base, m2_amount_base, max_amount_base, last_country, last_latitude,
                last_longitude, last_seen, known_devices, known_cards, known_countries, known_merchants, hour_counts,
                last_located_at, checkpoint_through, first_seen, rate_week, rate_month, rate_updated_at, channel_stats, true,
                now()
            FROM incoming_profiles
            ON CONFLICT (account_id) DO UPDATE SET txn_count = EXCLUDED.txn_count, mean_amount_base = EXCLUDED.mean_amount_base,
                m2_amount_base = EXCLUDED.m2_amount_base, max_amount_base = EXCLUDED.max_amount_base,
                last_country = EXCLUDED.last_country, last_latitude = EXCLUDED.last_latitude,
                last_longitude = EXCLUDED.last_longitude, last_seen = EXCLUDED.last_seen,
                known_devices = EXCLUDED.known_devices, known_cards = EXCLUDED.known_cards,
                known_countries = EXCLUDED.known_countries, known_merchants = EXCLUDED.known_merchants,
                hour_counts = EXCLUDED.hour_counts, last_located_at = EXCLUDED.last_located_at,
                checkpoint_through = EXCLUDED.checkpoint_through, first_seen = EXCLUDED.first_seen,
                rate_week = EXCLUDED.rate_week, rate_month = EXCLUDED.rate_month,
                rate_updated_at = EXCLUDED.rate_updated_at, channel_stats = EXCLUDED.channel_stats,
                known_fingerprints = true, updated_at = now()
            """)
    }

    /// The stored transactions of the last `span` before the newest stored event, in
    /// event-time order: what window state is rebuilt from at start.
    public static func recentTransactions(from db: PostgresConnection, span: Duration) async throws -> [Transaction] {
        let seconds = Int64(span.components.seconds) + 1
        let rows = try await db.query(
            """
            SELECT id, event_time, account_id, card_id, amount_minor, currency, merchant_id, mcc, country, channel,
                   device_id, ip, latitude, longitude
            FROM transactions t
            WHERE event_time > (SELECT max(event_time) FROM transactions) - make_interval(secs => \(seconds))
              AND NOT late
              AND NOT EXISTS (SELECT 1 FROM pending_evaluations p WHERE p.transaction_id = t.id)
            ORDER BY event_time, received_at
            """)
        var result: [Transaction] = []
        result.reserveCapacity(rows.count)
        for row in rows {
            guard let currency = Currency(code: try row.decode(5, as: String.self)),
                let channel = Channel(rawValue: try row.decode(9, as: String.self))
            else { continue }
            result.append(
                Transaction(
                    id: try row.decode(0), timestamp: try row.decode(1), accountID: try row.decode(2),
                    cardID: try row.decodeIfPresent(3), amount: Money(minorUnits: try row.decode(4), currency: currency),
                    merchantID: try row.decodeIfPresent(6), mcc: try row.decodeIfPresent(7), country: try row.decodeIfPresent(8),
                    channel: channel, deviceID: try row.decodeIfPresent(10), ip: try row.decodeIfPresent(11),
                    latitude: try row.decodeIfPresent(12), longitude: try row.decodeIfPresent(13)
                ))
        }
        return result
    }

    /// Transactions stored after the profile checkpoint marker that their account's
    /// profile row does not include yet, in the order they were stored (by batch, then
    /// event time): what is replayed into the loaded profiles.
    public static func transactionsSinceProfileCheckpoint(from db: PostgresConnection) async throws -> [(
        transaction: Transaction, receivedAt: Timestamp
    )] {
        let rows = try await db.query(
            """
            SELECT t.id, t.event_time, t.account_id, t.card_id, t.amount_minor, t.currency, t.merchant_id, t.mcc,
                   t.country, t.channel, t.device_id, t.ip, t.latitude, t.longitude, t.received_at
            FROM transactions t
            LEFT JOIN account_profiles p ON p.account_id = t.account_id
            WHERE t.received_at > (SELECT through FROM profile_checkpoints WHERE id = 1)
              AND (p.checkpoint_through IS NULL OR t.received_at > p.checkpoint_through)
              AND NOT t.late
              AND NOT EXISTS (SELECT 1 FROM pending_evaluations e WHERE e.transaction_id = t.id)
            ORDER BY t.received_at, t.event_time
            """)
        return rows.compactMap { row in
            guard let tx = try? transaction(from: row), let receivedAt = try? row.decode(14, as: Timestamp.self) else { return nil }
            return (tx, receivedAt)
        }
    }

    static func transaction(from row: PostgresRow) throws -> Transaction? {
        guard let currency = Currency(code: try row.decode(5, as: String.self)),
            let channel = Channel(rawValue: try row.decode(9, as: String.self))
        else { return nil }
        return Transaction(
            id: try row.decode(0), timestamp: try row.decode(1), accountID: try row.decode(2),
            cardID: try row.decodeIfPresent(3), amount: Money(minorUnits: try row.decode(4), currency: currency),
            merchantID: try row.decodeIfPresent(6), mcc: try row.decodeIfPresent(7), country: try row.decodeIfPresent(8),
            channel: channel, deviceID: try row.decodeIfPresent(10), ip: try row.decodeIfPresent(11),
            latitude: try row.decodeIfPresent(12), longitude: try row.decodeIfPresent(13)
        )
    }

    /// A transaction stored with the fallback decision whose evaluation had not committed
    /// when the process stopped: what it was answered, and the line it came from.
    public struct PendingEvaluation: Sendable {
        public var transaction: Transaction
        public var rawLine: [UInt8]
        public var session: Int64?
        public var decision: TransactionDecision
    }

    /// The pending evaluations (``PendingEvaluation``), in the order they were stored. The
    /// state rebuild leaves them out (see `recentTransactions` and the checkpoint replays):
    /// they are evaluated afresh, as if they had just arrived.
    public static func pendingEvaluations(from db: PostgresConnection) async throws -> [PendingEvaluation] {
        let rows = try await db.query(
            """
            SELECT t.id, t.event_time, t.account_id, t.card_id, t.amount_minor, t.currency, t.merchant_id, t.mcc,
                   t.country, t.channel, t.device_id, t.ip, t.latitude, t.longitude, t.raw::text, t.feed_session,
                   t.decision, t.decision_degraded
            FROM pending_evaluations e JOIN transactions t ON t.id = e.transaction_id
            ORDER BY t.received_at, t.event_time
            """)
        return rows.compactMap { row in
            guard let tx = try? transaction(from: row) else { return nil }
            let outcome = row.text(16).flatMap(DecisionOutcome.init(rawValue:)) ?? .review
            let reason = row.text(17).flatMap(DegradedReason.init(rawValue:)) ?? .budget
            return PendingEvaluation(
                transaction: tx, rawLine: Array((row.text(14) ?? "").utf8), session: try? row.decodeIfPresent(15, as: Int64.self),
                decision: .fallback(outcome, reason: reason))
        }
    }

    /// Which of `ids` are already stored.
    public static func storedIDs(_ ids: [String], on db: PostgresConnection) async throws -> Set<String> {
        guard !ids.isEmpty else { return [] }
        return try await storedIDs(ids, isolatedOn: db)
    }

    /// A detection worker asks this for every batch, at 5,000 records/s about 2,000 times a
    /// second with two or three ids each (without the query PostgreSQL's CPU per record
    /// halved at that rate): prepared once per connection, so that PostgreSQL neither
    /// parses nor plans it each time (about a sixth less of its CPU per record; see
    /// docs/benchmarks.md, "Where the CPU goes at 5,000/s").
    private static func storedIDs(_ ids: [String], isolatedOn db: isolated PostgresConnection) throws -> Set<String> {
        let statement = try db.prepare("vigil_stored_ids", "SELECT id FROM transactions WHERE id = ANY($1::text[])")
        let rows = try db.query(statement, [PostgresBinding(PostgresTextArray(ids))])
        var stored = Set<String>(minimumCapacity: rows.count)
        for row in rows { if let id = row.text(0) { stored.insert(id) } }
        return stored
    }
}
