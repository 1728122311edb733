import Foundation
import RuleLanguage
import VigilCore

/// What Vigil has learned about one account from its transactions so far.
///
/// Mean and variance of the base amount use Welford's online algorithm in binary
/// floating point: they are statistics compared against with generous factors, not
/// ledger amounts (amounts themselves stay exact decimals; the maximum is exact).
public struct AccountProfile: Sendable, Hashable {
    /// Transactions counted.
    public var count: Int64 = 0
    /// Running mean of `amount_base` (major units).
    public var mean: Double = 0
    /// Running sum of squared deviations (Welford's M2).
    public var m2: Double = 0
    /// Largest `amount_base` seen.
    public var maxAmount: DecimalValue? {
        get { maxAmountUnits == .min ? nil : DecimalValue(units: maxAmountUnits) }
        set { maxAmountUnits = newValue?.units ?? .min }
    }
    public var lastCountry: String?
    public var lastLatitude: Double? {
        get { Packed.double(lastLatitudeBits) }
        set { lastLatitudeBits = Packed.bits(newValue) }
    }
    public var lastLongitude: Double? {
        get { Packed.double(lastLongitudeBits) }
        set { lastLongitudeBits = Packed.bits(newValue) }
    }
    public var lastSeen: Timestamp? {
        get { Packed.time(lastSeenMicros) }
        set { lastSeenMicros = Packed.micros(newValue) }
    }
    /// Time of the last transaction that had a location (distance and speed use it:
    /// an online purchase in between must not shorten a trip's travel time).
    public var lastLocatedAt: Timestamp? {
        get { Packed.time(lastLocatedAtMicros) }
        set { lastLocatedAtMicros = Packed.micros(newValue) }
    }
    /// Devices, cards, countries and merchants seen (each kind capped, most recently used kept).
    public var known = KnownEntities()
    /// Transactions by hour of day (account's zone), for `profile.hour_share`.
    public var hours = HourCounts()
    /// When the account's first counted transaction happened (event time).
    public var firstSeen: Timestamp? {
        get { Packed.time(firstSeenMicros) }
        set { firstSeenMicros = Packed.micros(newValue) }
    }
    /// Exponentially decayed transaction rates (`profile.hourly_rate`, `profile.daily_rate`).
    public var rates = DecayedRates()
    /// Amount statistics per channel (`profile.channel_*`).
    public var channels = ChannelStats()

    // The optional values above, stored without an `Optional`'s extra byte (which pads to
    // 8 in this all-8-byte struct): 56 bytes less per profile, about 120 per account in the
    // profiles' hash table (see docs/detection.md, "Profile size").
    private var maxAmountUnits: Int64 = .min
    private var lastLatitudeBits = Packed.none
    private var lastLongitudeBits = Packed.none
    private var lastSeenMicros: Int64 = .min
    private var lastLocatedAtMicros: Int64 = .min
    private var firstSeenMicros: Int64 = .min

    /// An empty profile (a new account).
    public init() {}

    /// Standard deviation of the base amount, `nil` with fewer than two transactions.
    public var standardDeviation: Double? {
        count >= 2 ? (m2 / Double(count - 1)).squareRoot() : nil
    }

    /// Counts a transaction (after the rules have seen the profile as it was before).
    public mutating func observe(
        amountBase: DecimalValue?, country: String?, latitude: Double?, longitude: Double?,
        time: Timestamp, device: String?, card: String?, merchant: String?, hour: Int,
        channel: Channel? = nil
    ) {
        if let amountBase, let channel { channels.observe(amountBase.doubleValue, channel: channel) }
        if firstSeen.map({ time < $0 }) ?? true { firstSeen = time }
        rates.observe(time)
        if let amountBase {
            count += 1
            let x = amountBase.doubleValue
            let delta = x - mean
            mean += delta / Double(count)
            m2 += delta * (x - mean)
            if maxAmount.map({ amountBase > $0 }) ?? true { maxAmount = amountBase }
        }
        // "Last" means newest in event time: a record dated earlier (out of order) joins
        // the sets and statistics but does not move the last country or location back.
        if let country {
            if lastSeen.map({ time >= $0 }) ?? true { lastCountry = country }
            known.remember(.country, country)
        }
        if let latitude, let longitude, lastLocatedAt.map({ time >= $0 }) ?? true {
            lastLatitude = latitude
            lastLongitude = longitude
            lastLocatedAt = time
        }
        if lastSeen.map({ time > $0 }) ?? true { lastSeen = time }
        if let device { known.remember(.device, device) }
        if let card { known.remember(.card, card) }
        if let merchant { known.remember(.merchant, merchant) }
        if (0..<24).contains(hour) { hours[hour] += 1 }
    }

}

/// Exponentially decayed transaction counts with two time constants, from which the
/// account's usual rate per hour (7-day constant) and per day (30-day constant) follow.
///
/// A count decays by `exp(-Δt/τ)` between transactions; the rate is the decayed count over
/// the effective time observed, `τ·(1 − exp(−age/τ))` with `age` the time since the first
/// transaction, at least one hour (so a young account's rate is its count per hour of
/// history, and the very first transaction never divides by zero). A transaction dated
/// before the last update is added already decayed (out of order changes nothing else).
public struct DecayedRates: Sendable, Hashable {
    /// Decayed count with the 7-day constant, and with the 30-day constant.
    public var week: Double = 0
    public var month: Double = 0
    /// Event time the counts are decayed to.
    public var updatedAt: Timestamp? {
        get { Packed.time(updatedAtMicros) }
        set { updatedAtMicros = Packed.micros(newValue) }
    }
    private var updatedAtMicros: Int64 = .min

    static let weekSeconds = 7.0 * 86_400, monthSeconds = 30.0 * 86_400

    /// Empty (no transaction yet).
    public init() {}

    /// Counts one transaction at `time`.
    public mutating func observe(_ time: Timestamp) {
        guard let updatedAt else {
            week = 1
            month = 1
            self.updatedAt = time
            return
        }
        let dt = Double(time.microsecondsSinceEpoch - updatedAt.microsecondsSinceEpoch) / 1e6
        if dt >= 0 {
            week = week * exp(-dt / Self.weekSeconds) + 1
            month = month * exp(-dt / Self.monthSeconds) + 1
            self.updatedAt = time
        } else {
            week += exp(dt / Self.weekSeconds)
            month += exp(dt / Self.monthSeconds)
        }
    }

    /// Transactions per hour at `time`, given the first transaction's time (0 before any).
    public func perHour(at time: Timestamp, firstSeen: Timestamp?) -> Double {
        rate(week, Self.weekSeconds, at: time, firstSeen: firstSeen) * 3600
    }

    /// Transactions per day at `time`.
    public func perDay(at time: Timestamp, firstSeen: Timestamp?) -> Double {
        rate(month, Self.monthSeconds, at: time, firstSeen: firstSeen) * 86_400
    }

    func rate(_ decayed: Double, _ tau: Double, at time: Timestamp, firstSeen: Timestamp?) -> Double {
        guard let updatedAt, let firstSeen else { return 0 }
        let since = max(0, Double(time.microsecondsSinceEpoch - updatedAt.microsecondsSinceEpoch) / 1e6)
        let age = max(0, Double(time.microsecondsSinceEpoch - firstSeen.microsecondsSinceEpoch) / 1e6)
        let observed = max(3600, tau * (1 - exp(-age / tau)))
        return decayed * exp(-since / tau) / observed
    }
}

/// Count, mean, spread (Welford) and maximum of `amount_base` for each channel.
public struct ChannelStats: Sendable, Hashable {
    /// Four values per channel (count, mean, M2, max), channels in `Channel.allCases` order;
    /// inline like ``HourCounts`` so a profile copy allocates nothing.
    private var values = SIMD16<Double>()

    /// Empty.
    public init() {}

    /// From 16 stored values; any other number gives empty statistics.
    public init(_ stored: [Double]) {
        guard stored.count == 16 else { return }
        for (i, x) in stored.enumerated() { values[i] = x }
    }

    /// The 16 values, for storage.
    public var stored: [Double] { (0..<16).map { values[$0] } }

    static func slot(_ channel: Channel) -> Int { (Channel.allCases.firstIndex(of: channel) ?? 0) * 4 }

    /// Counts an amount paid through `channel`.
    public mutating func observe(_ x: Double, channel: Channel) {
        let i = Self.slot(channel)
        values[i] += 1
        let delta = x - values[i + 1]
        values[i + 1] += delta / values[i]
        values[i + 2] += delta * (x - values[i + 1])
        values[i + 3] = max(values[i + 3], x)
    }

    /// Count, mean, standard deviation (nil below two) and maximum for `channel`.
    public func summary(_ channel: Channel) -> (count: Int64, mean: Double, stddev: Double?, max: Double) {
        let i = Self.slot(channel)
        let n = values[i]
        return (Int64(n), values[i + 1], n >= 2 ? (values[i + 2] / (n - 1)).squareRoot() : nil, values[i + 3])
    }
}

/// Transactions by hour of day, stored inline: a profile is copied with every decision
/// it goes out with and updated with every transaction, and an array here meant an
/// allocation and a copy for each.
public struct HourCounts: Sendable, Hashable {
    /// 32-bit counts (saturating): no account makes two billion transactions in one hour
    /// of the day. Hours 0-15 and 16-23: 96 bytes, where one `SIMD32` held 8 unused lanes.
    private var early = SIMD16<Int32>()
    private var late = SIMD8<Int32>()

    /// All zero.
    public init() {}

    /// From 24 stored counts; any other number of values gives all zero.
    public init(_ values: [Int64]) {
        guard values.count == 24 else { return }
        for (hour, value) in values.enumerated() { self[hour] = value }
    }

    /// The count for `hour` (0–23).
    public subscript(hour: Int) -> Int64 {
        get { Int64(hour < 16 ? early[hour] : late[hour - 16]) }
        set {
            if hour < 16 { early[hour] = Int32(clamping: newValue) } else { late[hour - 16] = Int32(clamping: newValue) }
        }
    }

    /// The 24 counts, hour 0 first.
    public var values: [Int64] { (0..<24).map { self[$0] } }
}

/// Great-circle distance in kilometres (haversine, mean Earth radius 6,371 km).
public func haversineKilometres(_ lat1: Double, _ lon1: Double, _ lat2: Double, _ lon2: Double) -> Double {
    let r = 6371.0
    let dLat = (lat2 - lat1) * .pi / 180
    let dLon = (lon2 - lon1) * .pi / 180
    let a = sin(dLat / 2) * sin(dLat / 2) + cos(lat1 * .pi / 180) * cos(lat2 * .pi / 180) * sin(dLon / 2) * sin(dLon / 2)
    return 2 * r * asin(min(1, a.squareRoot()))
}

/// Optional values stored in 8 bytes: `Int64.min` microseconds for no time (no
/// transaction is dated 292,000 years before 1970), one NaN bit pattern for no coordinate
/// (coordinates are finite; compared by bit pattern, so equality stays reflexive).
enum Packed {
    static let none: UInt64 = 0x7ff8_0000_0000_5a5a

    static func time(_ micros: Int64) -> Timestamp? {
        micros == .min ? nil : Timestamp(microsecondsSinceEpoch: micros)
    }

    static func micros(_ time: Timestamp?) -> Int64 { time?.microsecondsSinceEpoch ?? .min }

    static func double(_ bits: UInt64) -> Double? { bits == none ? nil : Double(bitPattern: bits) }

    static func bits(_ value: Double?) -> UInt64 { value?.bitPattern ?? none }
}
