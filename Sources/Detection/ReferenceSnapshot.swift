import Foundation
import RuleLanguage
import VigilCore

/// An account as reference data describes it.
public struct AccountInfo: Sendable, Hashable {
    public var openedAt: Timestamp?
    public var homeCountry: String?
    public var riskTier: String?
    /// The account holder's zone, for `hour_of_day`; `nil` means UTC.
    public var timeZone: TimeZone?

    /// Creates account reference data.
    public init(openedAt: Timestamp?, homeCountry: String?, riskTier: String?, timeZone: TimeZone?) {
        self.openedAt = openedAt
        self.homeCountry = homeCountry
        self.riskTier = riskTier
        self.timeZone = timeZone
    }
}

/// A merchant as reference data describes it.
public struct MerchantInfo: Sendable, Hashable {
    public var riskLevel: String?
    public var country: String?

    /// Creates merchant reference data.
    public init(riskLevel: String?, country: String?) {
        self.riskLevel = riskLevel
        self.country = country
    }
}

/// All reference data at one moment: immutable, shared by every worker, replaced
/// whole when the tables change (so a refresh never blocks the hot path).
public struct ReferenceSnapshot: Sendable {
    /// Accounts by id.
    public var accounts: [String: AccountInfo]
    /// Merchants by id.
    public var merchants: [String: MerchantInfo]
    /// Units of the base currency per major unit of each currency (the base itself is 1).
    public var fxRates: [String: DecimalValue]
    /// The currency `amount_base` is in.
    public var baseCurrency: String
    /// Contents of the `lists` table by list name.
    public var lists: [String: Set<String>]
    /// When this snapshot was read (for logs and list versions).
    public var loadedAt: Timestamp
    /// FX rows that could not be used (`CODE=text`), for a warning at load.
    public var unreadableRates: [String] = []

    /// Creates a snapshot.
    public init(
        accounts: [String: AccountInfo] = [:], merchants: [String: MerchantInfo] = [:],
        fxRates: [String: DecimalValue] = [:], baseCurrency: String, lists: [String: Set<String>] = [:],
        loadedAt: Timestamp = .now()
    ) {
        self.accounts = accounts
        self.merchants = merchants
        self.fxRates = fxRates
        self.baseCurrency = baseCurrency
        self.lists = lists
        self.loadedAt = loadedAt
    }

    /// `amount` converted to the base currency, or `nil` when no rate is known.
    public func baseAmount(of amount: Money) -> DecimalValue? {
        guard let major = DecimalValue(minorUnits: amount.minorUnits, exponent: amount.currency.exponent) else { return nil }
        if amount.currency.code == baseCurrency { return major }
        guard let rate = fxRates[amount.currency.code] else { return nil }
        return major.multiplied(by: rate)
    }

    /// The list contents as the ruleset's `table` lists see them. A `table` list with no
    /// row in `lists` is empty (the table was read; nobody has filled that list yet);
    /// a list is *unavailable* only while the table cannot be read at all.
    public func listSnapshot(for ruleset: CompiledRuleset) -> ListSnapshot {
        var contents = lists
        for name in ruleset.tableLists where contents[name] == nil { contents[name] = [] }
        return ListSnapshot(ruleset: ruleset, contents: contents, version: RFC3339.format(loadedAt))
    }

    /// `table` lists of `ruleset` that have no row in `lists` (worth a warning at load).
    public func missingTableLists(for ruleset: CompiledRuleset) -> [String] {
        ruleset.tableLists.filter { lists[$0] == nil }
    }
}
