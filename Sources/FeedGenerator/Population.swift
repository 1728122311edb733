import Foundation

/// The kinds of legitimate customers a generated portfolio holds; every legitimate
/// transaction is labeled with its account's population.
public enum Population: String, Sendable, Hashable, CaseIterable, Codable {
    /// A few card payments, transfers and withdrawals a day (the original world).
    case everyday
    /// Business and corporate-card accounts: hundreds of transactions a day, all day.
    case business
    /// Small-ticket, high-frequency spenders: transit, coffee, micro-payments.
    case micro
    /// Frequent travellers: trips abroad every few days, long-haul, hotels and flights.
    case traveller
    /// Customers who open their account during the feed and start with a large purchase.
    case newcomer
    /// Salary earners whose spending spikes on paydays (the 1st, 15th and 25th).
    case payday
    /// Family members sharing one tablet or computer across their accounts and cards.
    case family
}

/// A portfolio: which share of accounts belongs to each population and which fraud
/// patterns are injected, in what proportion.
///
/// JSON form (`vigil feed generate --population FILE`):
/// `{"name":"bank","accounts":{"everyday":0.7,"business":0.01,...},"fraud":{"card_testing":1,...},"fraud_cases_per_thousand":2}`.
/// Shares and weights are relative (normalised); a population or pattern left out has none.
public struct PopulationMix: Sendable, Hashable, Codable {
    /// The mix's name, reported by `vigil feed generate`.
    public var name: String
    /// Relative share of accounts per population.
    public var accounts: [Population: Double]
    /// Relative weight of each fraud pattern among the injected cases.
    public var fraud: [FraudType: Double]
    /// Fraud cases per 1,000 transactions, when the mix sets it (else the configuration's).
    public var fraudCasesPerThousand: Double?

    /// Creates a mix.
    public init(name: String, accounts: [Population: Double], fraud: [FraudType: Double], fraudCasesPerThousand: Double? = nil) {
        self.name = name
        self.accounts = accounts
        self.fraud = fraud
        self.fraudCasesPerThousand = fraudCasesPerThousand
    }

    /// The original world: everyday customers and the nine original patterns, equally.
    /// Generation with it is byte-identical to generators before populations existed.
    public static let `default` = PopulationMix(
        name: "default", accounts: [.everyday: 1], fraud: Dictionary(uniqueKeysWithValues: FraudType.original.map { ($0, 1.0) }))

    /// A bank-like portfolio: every population and every pattern, including the ones that
    /// imitate legitimate behaviour. The starter rules were tuned on this mix (seeds 101, 102).
    public static let bank = PopulationMix(
        name: "bank",
        accounts: [.everyday: 0.62, .business: 0.012, .micro: 0.09, .traveller: 0.07, .newcomer: 0.05, .payday: 0.08, .family: 0.078],
        fraud: Dictionary(uniqueKeysWithValues: FraudType.allCases.map { ($0, 1.0) }))

    /// A portfolio the rules were never tuned on: heavy in business, micro-payment,
    /// travelling and family accounts, and in the imitating fraud patterns.
    public static let stress = PopulationMix(
        name: "stress",
        accounts: [.everyday: 0.4, .business: 0.025, .micro: 0.15, .traveller: 0.14, .newcomer: 0.08, .payday: 0.1, .family: 0.105],
        fraud: Dictionary(uniqueKeysWithValues: FraudType.allCases.map { ($0, FraudType.imitating.contains($0) ? 2.0 : 1.0) }))

    /// The named presets.
    public static let presets: [String: PopulationMix] = ["default": .default, "bank": .bank, "stress": .stress]

    /// A preset by name, or a JSON population file at `nameOrPath`.
    public static func load(_ nameOrPath: String) throws -> PopulationMix {
        if let preset = presets[nameOrPath] { return preset }
        guard let data = FileManager.default.contents(atPath: nameOrPath) else {
            throw GeneratorError(
                message: "--population \(nameOrPath): neither a preset (\(presets.keys.sorted().joined(separator: ", "))) nor a readable file")
        }
        let mix: PopulationMix
        do {
            mix = try JSONDecoder().decode(PopulationMix.self, from: data)
        } catch {
            throw GeneratorError(
                message:
                    "\(nameOrPath) is not a population file (\(error)); expected {\"name\":…,\"accounts\":{\"everyday\":0.7,…},\"fraud\":{\"card_testing\":1,…}} with populations \(Population.allCases.map(\.rawValue).joined(separator: ", ")) and patterns \(FraudType.allCases.map(\.rawValue).joined(separator: ", "))"
            )
        }
        guard mix.accounts.values.contains(where: { $0 > 0 }), mix.accounts.values.allSatisfy({ $0 >= 0 && $0.isFinite }) else {
            throw GeneratorError(message: "\(nameOrPath): \"accounts\" needs at least one population with a positive share and no negative share")
        }
        guard mix.fraud.values.allSatisfy({ $0 >= 0 && $0.isFinite }) else {
            throw GeneratorError(message: "\(nameOrPath): \"fraud\" weights must be zero or positive")
        }
        return mix
    }

    enum CodingKeys: String, CodingKey {
        case name, accounts, fraud
        case fraudCasesPerThousand = "fraud_cases_per_thousand"
    }

    /// Decodes keys by their raw names (`"business"`, `"card_testing"`), naming an unknown one.
    public init(from decoder: any Decoder) throws {
        let c = try decoder.container(keyedBy: CodingKeys.self)
        name = try c.decodeIfPresent(String.self, forKey: .name) ?? "custom"
        var accounts: [Population: Double] = [:]
        for (key, share) in try c.decode([String: Double].self, forKey: .accounts) {
            guard let population = Population(rawValue: key) else {
                throw DecodingError.dataCorruptedError(forKey: .accounts, in: c, debugDescription: "unknown population \"\(key)\"")
            }
            accounts[population] = share
        }
        var fraud: [FraudType: Double] = [:]
        for (key, weight) in try c.decodeIfPresent([String: Double].self, forKey: .fraud) ?? [:] {
            guard let type = FraudType(rawValue: key) else {
                throw DecodingError.dataCorruptedError(forKey: .fraud, in: c, debugDescription: "unknown fraud pattern \"\(key)\"")
            }
            fraud[type] = weight
        }
        self.accounts = accounts
        self.fraud = fraud
        fraudCasesPerThousand = try c.decodeIfPresent(Double.self, forKey: .fraudCasesPerThousand)
    }

    /// Encodes keys by their raw names.
    public func encode(to encoder: any Encoder) throws {
        var c = encoder.container(keyedBy: CodingKeys.self)
        try c.encode(name, forKey: .name)
        try c.encode(Dictionary(uniqueKeysWithValues: accounts.map { ($0.key.rawValue, $0.value) }), forKey: .accounts)
        try c.encode(Dictionary(uniqueKeysWithValues: fraud.map { ($0.key.rawValue, $0.value) }), forKey: .fraud)
        try c.encodeIfPresent(fraudCasesPerThousand, forKey: .fraudCasesPerThousand)
    }

    /// True for the original world (one population, original patterns equally weighted).
    var isDefault: Bool { self == .default }

    /// Populations in a fixed order with cumulative shares, for drawing.
    var accountCDF: [(Population, Double)] {
        let total = accounts.values.reduce(0, +)
        var running = 0.0
        return Population.allCases.compactMap { p in
            guard let share = accounts[p], share > 0 else { return nil }
            running += share / total
            return (p, running)
        }
    }

    /// Patterns in a fixed order with cumulative weights.
    var fraudCDF: [(FraudType, Double)] {
        let total = fraud.values.reduce(0, +)
        guard total > 0 else { return [] }
        var running = 0.0
        return FraudType.allCases.compactMap { t in
            guard let w = fraud[t], w > 0 else { return nil }
            running += w / total
            return (t, running)
        }
    }
}
