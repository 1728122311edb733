import Foundation
import RuleLanguage
import VigilCore

/// Fills an evaluation record with a transaction, its reference data and what the
/// account's profile knew before it.
///
/// Unknown accounts and merchants are not errors: their fields stay absent and the
/// rules see that (the checker makes every rule say what absence means).
public enum Enricher {
    /// What enrichment derived, for updating the profile afterwards.
    public struct Derived: Sendable {
        public var amountBase: DecimalValue?
        public var hour: Int
    }

    /// Fills `record` (reset first) for `transaction`.
    public static func fill(
        _ record: inout EvaluationRecord, transaction t: Transaction,
        reference: ReferenceSnapshot, profile: AccountProfile?
    ) -> Derived {
        record.reset()
        record.setTransaction(t)
        let amountBase = reference.baseAmount(of: t.amount)
        record[.amountBase] = amountBase.map(Value.decimal) ?? .absent
        record[.baseCurrency] = .string(reference.baseCurrency)

        let account = reference.accounts[t.accountID]
        if let account {
            if let opened = account.openedAt {
                record[.accountOpenedAt] = .timestamp(opened.microsecondsSinceEpoch)
                record[.accountAge] = .duration(max(0, t.timestamp.microsecondsSinceEpoch &- opened.microsecondsSinceEpoch))
            }
            record.set(.accountHomeCountry, account.homeCountry)
            record.set(.accountRiskTier, account.riskTier)
        }
        if let merchantID = t.merchantID, let merchant = reference.merchants[merchantID] {
            record.set(.merchantRiskLevel, merchant.riskLevel)
            record.set(.merchantCountry, merchant.country)
        }

        var hour = Int(EvaluationRecord.hourAndWeekday(t.timestamp).hour)
        if let zone = account?.timeZone {
            let offset = Int64(zone.secondsFromGMT(for: Date(timeIntervalSince1970: Double(t.timestamp.secondsSinceEpoch))))
            let local = Timestamp(microsecondsSinceEpoch: t.timestamp.microsecondsSinceEpoch &+ offset &* 1_000_000)
            let (h, weekday) = EvaluationRecord.hourAndWeekday(local)
            hour = Int(h)
            record[.hourOfDay] = .int(h)
            record[.dayOfWeek] = .int(weekday)
        }

        let p = profile ?? AccountProfile()
        record[.profileCount] = .int(p.count)
        if p.count >= 1, let avg = DecimalValue(approximating: (p.mean * 100).rounded() / 100) {
            record[.profileAvgAmount] = .decimal(avg)
        }
        if let sd = p.standardDeviation, let value = DecimalValue(approximating: (sd * 100).rounded() / 100) {
            record[.profileStddevAmount] = .decimal(value)
        }
        if let max = p.maxAmount { record[.profileMaxAmount] = .decimal(max) }
        record.set(.profileLastCountry, p.lastCountry)
        if let last = p.lastSeen {
            record[.profileLastSeen] = .timestamp(last.microsecondsSinceEpoch)
            record[.timeSinceLast] = .duration(max(0, t.timestamp.microsecondsSinceEpoch &- last.microsecondsSinceEpoch))
        }
        if p.count > 0, let share = DecimalValue(approximating: Double(p.hours[hour]) / Double(p.count)) {
            record[.profileHourShare] = .decimal(share)
        }
        if let lat = t.latitude, let lon = t.longitude, let lastLat = p.lastLatitude, let lastLon = p.lastLongitude,
            let last = p.lastLocatedAt ?? p.lastSeen
        {
            let km = haversineKilometres(lastLat, lastLon, lat, lon)
            // Same-instant transactions count as one second apart rather than infinitely fast.
            // Out of order (dated before the last located one) the time between them is the same.
            let hours = max(1.0, Double((t.timestamp.microsecondsSinceEpoch &- last.microsecondsSinceEpoch).magnitude) / 1e6) / 3600
            if let d = DecimalValue(approximating: (km * 10).rounded() / 10) { record[.distanceKmFromLast] = .decimal(d) }
            if let s = DecimalValue(approximating: (km / hours).rounded()) { record[.speedKmhFromLast] = .decimal(s) }
        }
        fillBaselines(&record, p, t)
        record[.isNewDevice] = .bool(t.deviceID.map { !p.known.contains(.device, $0) } ?? false)
        record[.isNewCountry] = .bool(t.country.map { !p.known.contains(.country, $0) } ?? false)
        record[.isNewCard] = .bool(t.cardID.map { !p.known.contains(.card, $0) } ?? false)
        record[.isNewMerchant] = .bool(t.merchantID.map { !p.known.contains(.merchant, $0) } ?? false)
        return Derived(amountBase: amountBase, hour: hour)
    }

    /// Counts the transaction into the account's profile.
    public static func update(_ profile: inout AccountProfile, with t: Transaction, derived: Derived) {
        profile.observe(
            amountBase: derived.amountBase, country: t.country, latitude: t.latitude, longitude: t.longitude,
            time: t.timestamp, device: t.deviceID, card: t.cardID, merchant: t.merchantID, hour: derived.hour,
            channel: t.channel
        )
    }

    /// The account's rates and its statistics for this transaction's channel. A new account
    /// has rates 0 and channel count 0; the channel amounts are absent until the channel is used.
    static func fillBaselines(_ record: inout EvaluationRecord, _ p: AccountProfile, _ t: Transaction) {
        func money(_ x: Double) -> Value { DecimalValue(approximating: (x * 100).rounded() / 100).map(Value.decimal) ?? .absent }
        func rate(_ x: Double) -> Value { DecimalValue(approximating: (x * 1000).rounded() / 1000).map(Value.decimal) ?? .absent }
        record[.profileHourlyRate] = rate(p.rates.perHour(at: t.timestamp, firstSeen: p.firstSeen))
        record[.profileDailyRate] = rate(p.rates.perDay(at: t.timestamp, firstSeen: p.firstSeen))
        if let first = p.firstSeen { record[.profileFirstSeen] = .timestamp(first.microsecondsSinceEpoch) }
        let s = p.channels.summary(t.channel)
        record[.profileChannelCount] = .int(s.count)
        if s.count >= 1 {
            record[.profileChannelAvgAmount] = money(s.mean)
            record[.profileChannelMaxAmount] = money(s.max)
        }
        if let sd = s.stddev { record[.profileChannelStddevAmount] = money(sd) }
    }

    /// Reads the card's, device's and merchant's histories into `record` as they were
    /// before this transaction and, unless `update` is false (a late record), counts the
    /// transaction in them. A key the transaction lacks, or one seen for the first time,
    /// reads count 0 and rate 0 with first-seen time and amounts absent.
    ///
    /// Only the fields in `reads` are written (the ruleset's `fieldsRead`: the others
    /// stay absent, and the rates and amounts no rule reads are not computed); an alert's
    /// evidence, which shows every value, writes the rest with ``putHistory(_:_:at:)``.
    /// Returns the histories before the transaction and after it (nil where not updated,
    /// for the checkpoint).
    @discardableResult
    public static func fillHistory(
        _ record: inout EvaluationRecord, transaction t: Transaction, amountBase: DecimalValue?, history: SharedHistory,
        update: Bool, reads: FieldSet = .all
    ) -> HistoryReadings {
        let amount = amountBase?.doubleValue
        var readings = HistoryReadings()
        if let id = t.cardID {
            (readings.card, readings.updates.card) = history.observe(
                EntityKey(.card, id), time: t.timestamp, amountBase: amount, update: update)
        }
        if let id = t.deviceID {
            (readings.device, readings.updates.device) = history.observe(
                EntityKey(.device, id), time: t.timestamp, amountBase: amount, update: update)
        }
        if let id = t.merchantID {
            (readings.merchant, readings.updates.merchant) = history.observe(
                EntityKey(.merchant, id), time: t.timestamp, amountBase: amount, update: update)
        }
        putHistory(&record, readings, at: t.timestamp, reads: reads)
        return readings
    }

    /// Writes the histories' fields in `reads` (by default all eighteen) from `readings`.
    public static func putHistory(_ record: inout EvaluationRecord, _ readings: HistoryReadings, at time: Timestamp, reads: FieldSet = .all) {
        put(&record, readings.card, at: time, HistoryFields.card, reads)
        put(&record, readings.device, at: time, HistoryFields.device, reads)
        put(&record, readings.merchant, at: time, HistoryFields.merchant, reads)
    }

    /// Writes one history's six fields (count, first seen, average, maximum, hourly rate,
    /// reversals), those in `reads`.
    private static func put(_ record: inout EvaluationRecord, _ s: EntityStats?, at time: Timestamp, _ f: HistoryFields, _ reads: FieldSet) {
        if reads.contains(f.count) { record[f.count] = .int(s?.count ?? 0) }
        if reads.contains(f.reversals) { record[f.reversals] = .int(s?.reversals ?? 0) }
        let rate = reads.contains(f.hourlyRate)
        if rate { record[f.hourlyRate] = .decimal(.zero) }
        guard let s else { return }
        if reads.contains(f.firstSeen), let first = s.firstSeen { record[f.firstSeen] = .timestamp(first.microsecondsSinceEpoch) }
        if s.amountCount > 0 {
            if reads.contains(f.avgAmount), let avg = DecimalValue(approximating: (s.mean * 100).rounded() / 100) {
                record[f.avgAmount] = .decimal(avg)
            }
            if reads.contains(f.maxAmount), let max = DecimalValue(approximating: (s.maxAmount * 100).rounded() / 100) {
                record[f.maxAmount] = .decimal(max)
            }
        }
        if rate, let value = DecimalValue(approximating: (s.hourlyRate(at: time) * 1000).rounded() / 1000) {
            record[f.hourlyRate] = .decimal(value)
        }
    }
}

/// The six fields of one entity kind's history (a struct, not an array: no allocation per call).
struct HistoryFields {
    let count, firstSeen, avgAmount, maxAmount, hourlyRate, reversals: Field
    static let card = HistoryFields(
        count: .cardCount, firstSeen: .cardFirstSeen, avgAmount: .cardAvgAmount, maxAmount: .cardMaxAmount, hourlyRate: .cardHourlyRate,
        reversals: .cardReversals)
    static let device = HistoryFields(
        count: .deviceCount, firstSeen: .deviceFirstSeen, avgAmount: .deviceAvgAmount, maxAmount: .deviceMaxAmount,
        hourlyRate: .deviceHourlyRate, reversals: .deviceReversals)
    static let merchant = HistoryFields(
        count: .merchantCount, firstSeen: .merchantFirstSeen, avgAmount: .merchantAvgAmount, maxAmount: .merchantMaxAmount,
        hourlyRate: .merchantHourlyRate, reversals: .merchantReversals)
}

/// The card's, device's and merchant's histories before a transaction (nil: the key is
/// absent, or seen for the first time) and after it.
public struct HistoryReadings: Sendable {
    /// The card's history before the transaction.
    public var card: EntityStats?
    /// The device's history before the transaction.
    public var device: EntityStats?
    /// The merchant's history before the transaction.
    public var merchant: EntityStats?
    /// The histories after the transaction (for the checkpoint).
    public var updates = EntityUpdates()

    /// None read.
    public init() {}
}

/// The card's, device's and merchant's histories after a transaction (nil: not counted).
public struct EntityUpdates: Sendable, Hashable {
    public var card: EntityStats?
    public var device: EntityStats?
    public var merchant: EntityStats?

    /// None counted.
    public init() {}
}
