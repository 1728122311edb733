import VigilCore

/// The fraud patterns the generator injects, as a fraud team would name them.
public enum FraudType: String, Sendable, Hashable, CaseIterable, Codable {
    /// A burst of small card-not-present charges on one card within minutes.
    case cardTesting = "card_testing"
    /// A taken-over account: new device and IP, then a quick run of purchases and transfers.
    case accountTakeover = "account_takeover"
    /// One purchase far above what the account usually spends.
    case amountAnomaly = "amount_anomaly"
    /// An account opened hours ago making a high-value purchase (bust-out).
    case newAccountHighValue = "new_account_high_value"
    /// Two card-present transactions too far apart for the time between them.
    case impossibleTravel = "impossible_travel"
    /// Several transfers just below a reporting threshold within a day.
    case structuring
    /// Many distinct cards used from one device.
    case deviceFarm = "device_farm"
    /// A purchase at a blocked merchant or in a high-risk country.
    case riskyDestination = "risky_destination"
    /// Activity in the small hours of the account's zone, unlike its history.
    case unusualHour = "unusual_hour"
    /// Card testing spread over hours: a small charge every 10 to 40 minutes.
    case cardTestingSlow = "card_testing_slow"
    /// Account takeover that starts with a few small purchases before the large ones.
    case takeoverSmallFirst = "account_takeover_small_first"
    /// Takeover of a business account that already makes hundreds of transactions a day.
    case highActivityTakeover = "high_activity_takeover"

    /// The nine patterns of the original world (the `default` population mix).
    public static let original: [FraudType] = [
        .cardTesting, .accountTakeover, .amountAnomaly, .newAccountHighValue, .impossibleTravel,
        .structuring, .deviceFarm, .riskyDestination, .unusualHour,
    ]

    /// Patterns that imitate a legitimate population (slow testing, small-first takeover,
    /// fraud hidden in high activity).
    public static let imitating: Set<FraudType> = [.cardTestingSlow, .takeoverSmallFirst, .highActivityTakeover]
}

/// Marks a generated transaction as part of an injected fraud case.
public struct FraudLabel: Sendable, Hashable {
    /// The case's id, e.g. `case-000042`; several transactions share it.
    public let caseID: String
    /// Which pattern the case follows.
    public let type: FraudType
}

/// One transaction of the stream, with its fraud label when it belongs to a case.
public struct GeneratedRecord: Sendable, Hashable {
    /// The transaction as sent on the feed.
    public let transaction: Transaction
    /// `nil` for legitimate traffic.
    public let fraud: FraudLabel?
    /// The population of the transaction's account (what a legitimate one is labeled with).
    public let population: Population
}
