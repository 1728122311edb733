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
    public var maxAmount: DecimalValue?
    public var lastCountry: String?
    public var lastLatitude: Double?
    public var lastLongitude: Double?
    public var lastSeen: Timestamp?
    /// Time of the last transaction that had a location (distance and speed use it:
    /// an online purchase in between must not shorten a trip's travel time).
    public var lastLocatedAt: Timestamp?
    /// Devices, cards, countries and merchants seen (each capped, newest kept).
    public var devices: [String] = []
    public var cards: [String] = []
    public var countries: [String] = []
    public var merchants: [String] = []
    /// Transactions by hour of day (account's zone), for `profile.hour_share`.
    public var hours = HourCounts()

    /// Most entries kept per known-set: enough for any real account, bounded for bots.
    public static let setCap = 64

    /// An empty profile (a new account).
    public init() {}

    /// Standard deviation of the base amount, `nil` with fewer than two transactions.
    public var standardDeviation: Double? {
        count >= 2 ? (m2 / Double(count - 1)).squareRoot() : nil
    }

    /// Counts a transaction (after the rules have seen the profile as it was before).
    public mutating func observe(amountBase: DecimalValue?, country: String?, latitude: Double?, longitude: Double?,
                                 time: Timestamp, device: String?, card: String?, merchant: String?, hour: Int) {
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
            Self.remember(country, in: &countries)
        }
        if let latitude, let longitude, lastLocatedAt.map({ time >= $0 }) ?? true {
            lastLatitude = latitude
            lastLongitude = longitude
            lastLocatedAt = time
        }
        if lastSeen.map({ time > $0 }) ?? true { lastSeen = time }
        if let device { Self.remember(device, in: &devices) }
        if let card { Self.remember(card, in: &cards) }
        if let merchant { Self.remember(merchant, in: &merchants) }
        if (0..<24).contains(hour) { hours[hour] += 1 }
    }

    static func remember(_ value: String, in list: inout [String]) {
        if let index = list.firstIndex(of: value) {
            if index != list.count - 1 { list.remove(at: index); list.append(value) }
            return
        }
        list.append(value)
        if list.count > setCap { list.removeFirst(list.count - setCap) }
    }
}

/// Transactions by hour of day, stored inline: a profile is copied with every decision
/// it goes out with and updated with every transaction, and an array here meant an
/// allocation and a copy for each.
public struct HourCounts: Sendable, Hashable {
    private var counts = SIMD32<Int64>()

    /// All zero.
    public init() {}

    /// From 24 stored counts; any other number of values gives all zero.
    public init(_ values: [Int64]) {
        guard values.count == 24 else { return }
        for (hour, value) in values.enumerated() { counts[hour] = value }
    }

    /// The count for `hour` (0–23).
    public subscript(hour: Int) -> Int64 {
        get { counts[hour] }
        set { counts[hour] = newValue }
    }

    /// The 24 counts, hour 0 first.
    public var values: [Int64] { (0..<24).map { counts[$0] } }
}

/// Great-circle distance in kilometres (haversine, mean Earth radius 6,371 km).
public func haversineKilometres(_ lat1: Double, _ lon1: Double, _ lat2: Double, _ lon2: Double) -> Double {
    let r = 6371.0
    let dLat = (lat2 - lat1) * .pi / 180
    let dLon = (lon2 - lon1) * .pi / 180
    let a = sin(dLat / 2) * sin(dLat / 2) + cos(lat1 * .pi / 180) * cos(lat2 * .pi / 180) * sin(dLon / 2) * sin(dLon / 2)
    return 2 * r * asin(min(1, a.squareRoot()))
}
