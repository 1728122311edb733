import VigilCore

/// The field catalog: every field a rule can read, in one place.
///
/// A field's raw value is its slot in `EvaluationRecord.fields`; rules compile to slot reads,
/// never string lookups. The pipeline fills transaction fields with
/// `EvaluationRecord.setTransaction(_:)` and enrichment fields with `record[.field] = value`.
/// Values are in the types given by `type` (money as `Value.decimal`, durations and
/// timestamps in microseconds). Adding a field: add a case, then its row in `info`.
public enum Field: Int, Sendable, Hashable, CaseIterable {
    // Transaction (from the feed)
    case id, timestamp, accountID, cardID, amount, currency, merchantID, mcc, country, channel
    case deviceID, ip, lat, lon
    // Enrichment: amounts and reference data
    case amountBase, baseCurrency
    case accountAge, accountHomeCountry, accountRiskTier, accountOpenedAt
    case merchantRiskLevel, merchantCountry
    case cardIssuerCountry, ipCountry
    // Enrichment: the account's learned profile (before this transaction)
    case profileCount, profileAvgAmount, profileStddevAmount, profileMaxAmount
    case profileLastCountry, profileLastSeen, profileHourShare
    // Enrichment: the account's baselines (before this transaction)
    case profileHourlyRate, profileDailyRate, profileFirstSeen
    case profileChannelCount, profileChannelAvgAmount, profileChannelStddevAmount, profileChannelMaxAmount
    // Enrichment: derived from the previous transaction and the clock
    case distanceKmFromLast, speedKmhFromLast, timeSinceLast
    case hourOfDay, dayOfWeek
    case isNewDevice, isNewCountry, isNewCard, isNewMerchant
    // Ingest: the record's place in event time
    case isLate
    // Enrichment: the card's, device's and merchant's history over every account (before this transaction)
    case cardCount, cardFirstSeen, cardAvgAmount, cardMaxAmount, cardHourlyRate
    case deviceCount, deviceFirstSeen, deviceAvgAmount, deviceMaxAmount, deviceHourlyRate
    case merchantCount, merchantFirstSeen, merchantAvgAmount, merchantMaxAmount, merchantHourlyRate
    // Enrichment: earlier transactions of the card, device and merchant reversed by ISO 8583 0400/0420
    case cardReversals, deviceReversals, merchantReversals

    /// Name, type and documentation of one field.
    public struct Info: Sendable {
        /// The name rules use, e.g. `account.age`.
        public let name: String
        /// The field's type (see `ValueType.optional` for absence).
        public let type: ValueType
        /// One line for docs and `explain`.
        public let doc: String
        /// For enumerated string fields, the values a literal may take (checked at load).
        public let allowedValues: [String]?
    }

    private static func f(_ name: String, _ base: BaseType, optional: Bool = false, _ doc: String, values: [String]? = nil) -> Info {
        Info(name: name, type: ValueType(base, optional: optional), doc: doc, allowedValues: values)
    }

    /// This field's catalog entry.
    public var info: Info { Field.infos[rawValue] }

    /// The name rules use.
    public var name: String { info.name }

    /// The field's type.
    public var type: ValueType { info.type }

    /// Looks a field up by its rules name, e.g. `profile.avg_amount`.
    public static func named(_ name: String) -> Field? { byName[name] }

    private static let byName: [String: Field] = {
        var table: [String: Field] = [:]
        for field in Field.allCases { table[field.name] = field }
        return table
    }()

    /// Every field's entry, indexed by slot (same order as the cases).
    static let infos: [Info] = Field.allCases.map { field -> Info in
        switch field {
        case .id: f("id", .string, "The sender's transaction id.")
        case .timestamp: f("timestamp", .timestamp, "When the payment happened (UTC).")
        case .accountID: f("account_id", .string, "The account the payment is on.")
        case .cardID: f("card_id", .string, optional: true, "The card used; absent for transfers.")
        case .amount: f("amount", .money, "The amount in the transaction's own currency.")
        case .currency: f("currency", .string, "ISO 4217 code of `amount`.")
        case .merchantID: f("merchant_id", .string, optional: true, "The merchant paid.")
        case .mcc: f("mcc", .string, optional: true, "ISO 18245 merchant category code, four digits.")
        case .country: f("country", .string, optional: true, "ISO 3166-1 alpha-2 country where the payment happened.")
        case .channel:
            f(
                "channel", .string, "How the payment was made.",
                values: Channel.allCases.map(\.rawValue))
        case .deviceID: f("device_id", .string, optional: true, "The device fingerprint.")
        case .ip: f("ip", .string, optional: true, "The client IP address.")
        case .lat: f("lat", .decimal, optional: true, "Latitude of the payment, degrees.")
        case .lon: f("lon", .decimal, optional: true, "Longitude of the payment, degrees.")
        case .amountBase: f("amount_base", .money, "The amount converted to the base currency at the day's rate.")
        case .baseCurrency: f("base_currency", .string, "ISO 4217 code of the base currency.")
        case .accountAge: f("account.age", .duration, optional: true, "Time since the account was opened; absent for an unknown account.")
        case .accountHomeCountry: f("account.home_country", .string, optional: true, "The account holder's country of residence.")
        case .accountRiskTier:
            f(
                "account.risk_tier", .string, optional: true, "KYC risk tier of the account.",
                values: ["low", "medium", "high"])
        case .accountOpenedAt: f("account.opened_at", .timestamp, optional: true, "When the account was opened.")
        case .merchantRiskLevel:
            f(
                "merchant.risk_level", .string, optional: true, "Risk level of the merchant.",
                values: ["low", "medium", "high"])
        case .merchantCountry: f("merchant.country", .string, optional: true, "Country where the merchant is registered.")
        case .cardIssuerCountry: f("card.issuer_country", .string, optional: true, "Country of the card's issuing bank (from the BIN).")
        case .ipCountry: f("ip_country", .string, optional: true, "Country of the client IP (geolocation).")
        case .profileCount: f("profile.count", .int, "Number of earlier transactions in the account's profile (0 for a new account).")
        case .profileAvgAmount: f("profile.avg_amount", .money, optional: true, "Mean `amount_base` of the account's earlier transactions.")
        case .profileStddevAmount: f("profile.stddev_amount", .money, optional: true, "Standard deviation of the account's earlier `amount_base`.")
        case .profileMaxAmount: f("profile.max_amount", .money, optional: true, "Largest earlier `amount_base` of the account.")
        case .profileLastCountry: f("profile.last_country", .string, optional: true, "Country of the account's previous transaction.")
        case .profileLastSeen: f("profile.last_seen", .timestamp, optional: true, "Time of the account's previous transaction.")
        case .profileHourShare:
            f(
                "profile.hour_share", .decimal, optional: true,
                "Share (0 to 1) of the account's earlier transactions in this hour of day.")
        case .profileHourlyRate:
            f(
                "profile.hourly_rate", .decimal,
                "The account's usual transactions per hour: exponentially decayed over 7 days, 0 for a new account.")
        case .profileDailyRate:
            f(
                "profile.daily_rate", .decimal,
                "The account's usual transactions per day: exponentially decayed over 30 days, 0 for a new account.")
        case .profileFirstSeen: f("profile.first_seen", .timestamp, optional: true, "Time of the account's first counted transaction.")
        case .profileChannelCount:
            f(
                "profile.channel_count", .int,
                "Earlier transactions of the account in this transaction's channel (0 if none).")
        case .profileChannelAvgAmount:
            f(
                "profile.channel_avg_amount", .money, optional: true,
                "Mean `amount_base` of the account's earlier transactions in this channel.")
        case .profileChannelStddevAmount:
            f(
                "profile.channel_stddev_amount", .money, optional: true,
                "Standard deviation of the account's earlier `amount_base` in this channel (two or more).")
        case .profileChannelMaxAmount:
            f(
                "profile.channel_max_amount", .money, optional: true,
                "Largest earlier `amount_base` of the account in this channel.")
        case .distanceKmFromLast:
            f(
                "distance_km_from_last", .decimal, optional: true,
                "Great-circle distance from the previous located transaction, km.")
        case .speedKmhFromLast:
            f(
                "speed_kmh_from_last", .decimal, optional: true,
                "Distance from the previous located transaction over the time between them, km/h.")
        case .timeSinceLast: f("time_since_last", .duration, optional: true, "Time since the account's previous transaction.")
        case .hourOfDay: f("hour_of_day", .int, "Hour of `timestamp`, 0-23, in the account's time zone when known, else UTC.")
        case .dayOfWeek: f("day_of_week", .int, "ISO day of week of `timestamp`, 1 (Monday) to 7.")
        case .isNewDevice: f("is_new_device", .bool, "The account has not used this device before (false when no device).")
        case .isNewCountry: f("is_new_country", .bool, "The account has not transacted in this country before.")
        case .isNewCard: f("is_new_card", .bool, "The account has not used this card before.")
        case .isNewMerchant: f("is_new_merchant", .bool, "The account has not paid this merchant before.")
        case .isLate:
            f(
                "is_late", .bool,
                "Dated earlier than the account's newest transaction by more than the allowed lateness: windows and profile-relative times are absent for it."
            )
        case .cardCount, .deviceCount, .merchantCount: Field.entityInfo(field, "count")
        case .cardFirstSeen, .deviceFirstSeen, .merchantFirstSeen: Field.entityInfo(field, "first_seen")
        case .cardAvgAmount, .deviceAvgAmount, .merchantAvgAmount: Field.entityInfo(field, "avg_amount")
        case .cardMaxAmount, .deviceMaxAmount, .merchantMaxAmount: Field.entityInfo(field, "max_amount")
        case .cardHourlyRate, .deviceHourlyRate, .merchantHourlyRate: Field.entityInfo(field, "hourly_rate")
        case .cardReversals, .deviceReversals, .merchantReversals: Field.entityInfo(field, "reversals")
        }
    }

    /// The card, device or merchant a history field describes, by the case's name.
    private static func entity(of field: Field) -> (name: String, key: String) {
        switch field {
        case .cardCount, .cardFirstSeen, .cardAvgAmount, .cardMaxAmount, .cardHourlyRate, .cardReversals: ("card", "card_id")
        case .deviceCount, .deviceFirstSeen, .deviceAvgAmount, .deviceMaxAmount, .deviceHourlyRate, .deviceReversals: ("device", "device_id")
        default: ("merchant", "merchant_id")
        }
    }

    /// Catalog entries of the entity-history fields (the same six for card, device and merchant).
    private static func entityInfo(_ field: Field, _ stat: String) -> Info {
        let (entity, key) = entity(of: field)
        let name = "\(entity).\(stat)"
        switch stat {
        case "count":
            return f(name, .int, "Earlier transactions with this `\(key)`, over every account (0 when first seen or no `\(key)`).")
        case "first_seen":
            return f(name, .timestamp, optional: true, "Time of the first transaction with this `\(key)`; absent when first seen.")
        case "avg_amount":
            return f(name, .money, optional: true, "Mean `amount_base` of earlier transactions with this `\(key)`; absent when first seen.")
        case "max_amount":
            return f(name, .money, optional: true, "Largest earlier `amount_base` with this `\(key)`; absent when first seen.")
        case "reversals":
            return f(
                name, .int,
                "Earlier transactions with this `\(key)` reversed by an ISO 8583 0400/0420 stored after them, each once (0 when none or no `\(key)`)."
            )
        default:
            return f(
                name, .decimal,
                "Usual transactions per hour with this `\(key)`, decayed over 7 days (0 when first seen; per hour of history, at least one, while young)."
            )
        }
    }
}
