import Foundation
import VigilCore

/// The kinds of entity other than the account that Vigil keeps a history of. A card,
/// a device or a merchant appears on many accounts, so its history is shared by the
/// detection partitions (``SharedHistory``), like the windows keyed by them.
public enum EntityKind: String, Sendable, Hashable, CaseIterable {
    case card, device, merchant
}

/// One entity's key: its kind and its id as the feed sent it.
public struct EntityKey: Sendable, Hashable {
    /// Card, device or merchant.
    public var kind: EntityKind
    /// The `card_id`, `device_id` or `merchant_id`.
    public var id: String

    /// Creates a key.
    public init(_ kind: EntityKind, _ id: String) {
        self.kind = kind
        self.id = id
    }
}

/// What Vigil has learned about one card, device or merchant, over every account that
/// used it: when it was first and last seen, how often, and its usual amount.
///
/// Like ``AccountProfile``, statistics are binary floating point (compared with generous
/// factors); every value has a defined start so a first-seen entity never divides by zero.
/// Stored compactly (56 bytes, no optionals: absent times are `Int64.min`), because a
/// portfolio has a few of these per account; see docs/detection.md ("Profile size").
public struct EntityStats: Sendable, Hashable {
    private var storedCount: UInt32 = 0
    private var storedAmountCount: UInt32 = 0
    private var storedReversals: UInt32 = 0
    /// Running mean of `amount_base` (major units), 0 before any amount.
    public var mean: Double = 0
    /// Largest `amount_base`, 0 before any amount.
    public var maxAmount: Double = 0
    private var first = Int64.min
    private var last = Int64.min
    /// Count decayed with the 7-day constant (as ``DecayedRates/week``), decayed to `lastSeen`.
    public var decayedWeek: Double = 0

    /// Nothing seen yet.
    public init() {}

    /// Transactions counted (with or without a convertible amount; saturates at 2^32 - 1).
    public var count: Int64 {
        get { Int64(storedCount) }
        set { storedCount = UInt32(clamping: newValue) }
    }

    /// Transactions whose `amount_base` is known (the mean's denominator).
    public var amountCount: Int64 {
        get { Int64(storedAmountCount) }
        set { storedAmountCount = UInt32(clamping: newValue) }
    }

    /// Earlier transactions with this entity that a counted ISO 8583 reversal reversed
    /// (each original once; see docs/iso8583.md, "Reversals in rules"). Not changed by
    /// ``observe(amountBase:time:)``: reversals are counted when their own commit says so.
    public var reversals: Int64 {
        get { Int64(storedReversals) }
        set { storedReversals = UInt32(clamping: newValue) }
    }

    /// Event time of the first transaction counted.
    public var firstSeen: Timestamp? {
        get { first == .min ? nil : Timestamp(microsecondsSinceEpoch: first) }
        set { first = newValue?.microsecondsSinceEpoch ?? .min }
    }

    /// Event time of the newest transaction counted (what the decayed count is decayed to).
    public var lastSeen: Timestamp? {
        get { last == .min ? nil : Timestamp(microsecondsSinceEpoch: last) }
        set { last = newValue?.microsecondsSinceEpoch ?? .min }
    }

    /// Counts one transaction at `time` with `amountBase` (nil when its currency has no rate).
    public mutating func observe(amountBase: Double?, time: Timestamp) {
        let t = time.microsecondsSinceEpoch
        // The 7-day decay of ``DecayedRates`` (only the week is kept for entities): decayed
        // to the newest time; a record dated earlier is added already decayed.
        if last == .min {
            decayedWeek = 1
        } else {
            let dt = Double(t &- last) / 1e6
            decayedWeek = dt >= 0 ? decayedWeek * exp(-dt / DecayedRates.weekSeconds) + 1 : decayedWeek + exp(dt / DecayedRates.weekSeconds)
        }
        storedCount &+= storedCount == .max ? 0 : 1
        if first == .min || t < first { first = t }
        if last == .min || t > last { last = t }
        if let x = amountBase {
            storedAmountCount &+= storedAmountCount == .max ? 0 : 1
            mean += (x - mean) / Double(storedAmountCount)
            maxAmount = Swift.max(maxAmount, x)
        }
    }

    /// The decayed count as ``DecayedRates`` (the 30-day count is not kept for entities).
    private var rates: DecayedRates {
        var rates = DecayedRates()
        rates.week = decayedWeek
        rates.updatedAt = lastSeen
        return rates
    }

    /// Transactions per hour at `time` (7-day decay; 0 before any, per hour of history
    /// for an entity younger than the time constant, at least one hour).
    public func hourlyRate(at time: Timestamp) -> Double {
        rates.perHour(at: time, firstSeen: firstSeen)
    }
}
