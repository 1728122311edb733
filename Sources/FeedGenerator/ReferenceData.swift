import VigilCore

/// The reference data a generated feed assumes, written as `FILE.reference.json` and
/// loaded into PostgreSQL by `vigil feed seed`.
///
/// File format (JSON, UTF-8; decode it with `JSONDecoder` into this type):
/// ```json
/// {
///   "format": "vigil-reference-v1",
///   "base_currency": "EUR",
///   "accounts":  [{"id": "acc-0000001", "opened_at": "2021-03-04T10:00:00.000000Z",
///                  "home_country": "DE", "risk_tier": "low", "timezone": "Europe/Berlin",
///                  "currency": "EUR"}],
///   "merchants": [{"id": "m-000001", "name": "Berlin ATM 1", "mcc": "6011",
///                  "country": "DE", "risk_level": "low"}],
///   "fx_rates":  [{"currency": "USD", "rate_to_base": "0.92"}],
///   "lists":     [{"name": "blocked_merchants", "kind": "merchant_id", "values": ["m-000151"]},
///                 {"name": "high_risk_countries", "kind": "country", "values": ["KP", "IR", "MM"]},
///                 {"name": "high_risk_mccs", "kind": "mcc", "values": ["7995", "6051", "4829"]}]
/// }
/// ```
/// - `opened_at`: RFC 3339 UTC. Accounts opened during the feed have `opened_at` after its
///   first transaction: seed them all up front; none transacts before it opens.
/// - `risk_tier`: `low | medium | high`; `risk_level`: `low | medium | high`.
/// - `rate_to_base`: decimal string, units of `base_currency` per one major unit of
///   `currency` (EUR itself is listed with "1"). Rates are money, so never JSON numbers.
/// - `lists`: membership sets for the rules language; `kind` names the transaction field
///   the values compare with.
public struct ReferenceData: Codable, Sendable, Hashable {
    /// A customer account.
    public struct Account: Codable, Sendable, Hashable {
        public var id: String
        public var openedAt: String
        public var homeCountry: String
        public var riskTier: String
        /// IANA time zone name of the account's home.
        public var timezone: String
        public var currency: String
        enum CodingKeys: String, CodingKey {
            case id
            case openedAt = "opened_at"
            case homeCountry = "home_country"
            case riskTier = "risk_tier"
            case timezone, currency
        }
    }

    /// A merchant.
    public struct Merchant: Codable, Sendable, Hashable {
        public var id: String
        public var name: String
        public var mcc: String
        public var country: String
        public var riskLevel: String
        enum CodingKeys: String, CodingKey {
            case id, name, mcc, country
            case riskLevel = "risk_level"
        }
    }

    /// Value of one major unit of `currency` in the base currency.
    public struct FXRate: Codable, Sendable, Hashable {
        public var currency: String
        public var rateToBase: String
        enum CodingKeys: String, CodingKey {
            case currency
            case rateToBase = "rate_to_base"
        }
    }

    /// A named membership list.
    public struct List: Codable, Sendable, Hashable {
        public var name: String
        public var kind: String
        public var values: [String]
    }

    /// Always `vigil-reference-v1` for this layout.
    public var format: String
    public var baseCurrency: String
    public var accounts: [Account]
    public var merchants: [Merchant]
    public var fxRates: [FXRate]
    public var lists: [List]

    enum CodingKeys: String, CodingKey {
        case format
        case baseCurrency = "base_currency"
        case accounts, merchants
        case fxRates = "fx_rates"
        case lists
    }

    init(world: World, configuration: GeneratorConfiguration) {
        format = "vigil-reference-v1"
        baseCurrency = "EUR"
        accounts = world.accounts.map { a in
            let country = Geography.countries[a.country]
            return Account(
                id: a.id, openedAt: RFC3339.format(a.openedAt), homeCountry: country.code,
                riskTier: a.riskTier, timezone: country.timezone, currency: a.currency.code)
        }
        merchants = world.merchants.map {
            Merchant(id: $0.id, name: $0.name, mcc: $0.category.mcc, country: $0.city.country, riskLevel: $0.riskLevel)
        }
        fxRates = Geography.eurRates.map { FXRate(currency: $0.currency, rateToBase: $0.rate) }
        lists = [
            List(name: "blocked_merchants", kind: "merchant_id", values: world.blockedMerchants.map { world.merchants[$0].id }),
            List(name: "high_risk_countries", kind: "country", values: Geography.highRiskCountries.map(\.code)),
            List(name: "high_risk_mccs", kind: "mcc", values: MerchantCategory.risky.map(\.mcc)),
        ]
    }
}
