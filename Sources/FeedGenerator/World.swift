import VigilCore

/// A customer account of the synthetic world and how it behaves.
struct Account: Sendable {
    let id: String
    let country: Int
    let city: City
    let currency: Currency
    var openedAt: Timestamp
    let riskTier: String
    /// Everyday spend in EUR (median); each account spends on its own scale.
    var medianEUR: Double
    var cards: [String]
    var devices: [String]
    var ip: String
    /// Channel mix: cumulative thresholds for card present, not present, ATM (rest: transfer).
    var channelCut: (Double, Double, Double)
    /// Reserved for one fraud case (a bust-out new account): not in the background traffic.
    let fraudOnly: Bool
    /// Which legitimate population the account belongs to (its transactions' label).
    var population: Population = .everyday
}

/// A merchant of the synthetic world.
struct Merchant: Sendable {
    let id: String
    let name: String
    let category: MerchantCategory
    let city: City
    let riskLevel: String
    let blocked: Bool
}

/// The accounts, merchants and lists a feed is drawn from, built once from the seed.
final class World: Sendable {
    let accounts: [Account]
    /// Index in `accounts` by account id.
    let accountIndex: [String: Int]
    /// Cumulative Zipf-like activity weights over `accounts`, for binary-search sampling.
    let activityCDF: [Double]
    let merchants: [Merchant]
    /// Card-present merchants by city name; online merchants; ATMs by city; risky ones.
    let localMerchants: [String: [Int]]
    let atms: [String: [Int]]
    let onlineMerchants: [Int]
    let riskyMerchants: [Int]
    let blockedMerchants: [Int]
    /// Indices of fraud-only new accounts, ordered by opening time.
    let bustOutAccounts: [Int]
    /// Legitimate transactions per second across all accounts, and the expected span.
    let globalRate: Double
    let span: Double

    init(configuration c: GeneratorConfiguration) {
        var rng = SeededRandom(seed: c.seed ^ 0x5EED_0F_0A11_D00D)
        let countries = Geography.countries
        let totalWeight = countries.reduce(0) { $0 + $1.weight }
        let span = c.population.isDefault ? c.expectedSpanSeconds : Self.estimatedSpan(c)
        var finalRate = c.globalRate
        var finalSpan = span
        let bustOuts = max(4, Int(Double(c.count) * c.fraudCasesPerThousand / 1000 / 9 * 3))
        var accounts: [Account] = []
        accounts.reserveCapacity(c.accountCount + bustOuts)
        for i in 0..<(c.accountCount + bustOuts) {
            let fraudOnly = i >= c.accountCount
            var pick = rng.unit() * totalWeight
            var ci = 0
            while ci < countries.count - 1, pick >= countries[ci].weight {
                pick -= countries[ci].weight
                ci += 1
            }
            let country = countries[ci]
            let city = country.cities[rng.below(country.cities.count)]
            // Most accounts are years old; some open during the feed (legitimate newcomers).
            let ageSeconds: Double
            if fraudOnly {
                ageSeconds = -rng.double(in: 0...max(1, span))
            } else if rng.chance(0.03) {
                ageSeconds = -rng.double(in: 0...max(1, span * 0.8))
            } else {
                ageSeconds = rng.double(in: 30 * 86_400...9 * 365 * 86_400)
            }
            let n = String(i + 1).leftPadded(to: 7)
            let cardCount = 1 + rng.below(3)
            let deviceCount = 1 + rng.below(2)
            let cp = rng.double(in: 0.35...0.7)
            let cnp = rng.double(in: 0.15...0.4)
            let atm = rng.double(in: 0.02...0.08)
            accounts.append(
                Account(
                    id: "acc-\(n)", country: ci, city: city,
                    currency: Currency(code: country.currency) ?? Currency(code: "EUR")!,
                    openedAt: c.start.adding(microseconds: -Int64(ageSeconds * 1e6)),
                    riskTier: fraudOnly ? "medium" : (rng.chance(0.85) ? "low" : (rng.chance(0.7) ? "medium" : "high")),
                    medianEUR: 28 * exp(0.6 * rng.normal()),
                    cards: (1...cardCount).map { "card-\(n)-\($0)" },
                    devices: (1...deviceCount).map { "dev-\(n)-\($0)" },
                    ip: "\(country.ipOctet).\(1 + rng.below(250)).\(rng.below(256)).\(1 + rng.below(254))",
                    channelCut: (cp, min(0.97, cp + cnp), min(0.985, cp + cnp + atm)),
                    fraudOnly: fraudOnly
                ))
        }
        // Zipf-like skew with an offset (weight 1/(rank + q)): heavy users dominate without
        // one account taking a tenth of the stream. Ranks are shuffled over account ids.
        var ranks = Array(0..<c.accountCount)
        for i in stride(from: ranks.count - 1, to: 0, by: -1) { ranks.swapAt(i, rng.below(i + 1)) }
        let q = max(5.0, Double(c.accountCount) / 50)
        var cdf = [Double](repeating: 0, count: c.accountCount)
        var total = 0.0
        for i in 0..<c.accountCount {
            total += 1 / (Double(ranks[i]) + q)
            cdf[i] = total
        }
        if !c.population.isDefault {
            // A separate stream, so the default mix draws exactly what it always drew.
            var populationRNG = SeededRandom(seed: c.seed ^ 0x0F0B_1A71_0D5E_ED00)
            let rates = Self.assignPopulations(&accounts, zipf: cdf, c, &populationRNG)
            (cdf, finalRate) = Self.rateCDF(rates)
            finalSpan = Double(c.count) / finalRate
            Self.openNewcomers(&accounts, span: finalSpan, &populationRNG, c)
        }
        self.accounts = accounts
        accountIndex = Dictionary(uniqueKeysWithValues: accounts.enumerated().map { ($1.id, $0) })
        activityCDF = cdf
        globalRate = finalRate
        self.span = finalSpan
        bustOutAccounts = (c.accountCount..<accounts.count).sorted { accounts[$0].openedAt < accounts[$1].openedAt }

        var merchants: [Merchant] = []
        var local: [String: [Int]] = [:]
        var atms: [String: [Int]] = [:]
        var online: [Int] = []
        var risky: [Int] = []
        var blocked: [Int] = []
        let categories = MerchantCategory.all
        let catWeight = categories.reduce(0) { $0 + $1.weight }
        let allCities = countries.flatMap(\.cities)
        for i in 0..<c.merchantCount {
            var pick = rng.unit() * catWeight
            var k = 0
            while k < categories.count - 1, pick >= categories[k].weight {
                pick -= categories[k].weight
                k += 1
            }
            let category = i < allCities.count * 2 ? MerchantCategory.atm : categories[k]
            let city = i < allCities.count * 2 ? allCities[i % allCities.count] : allCities[rng.below(allCities.count)]
            let index = merchants.count
            merchants.append(
                Merchant(
                    id: "m-\(String(index + 1).leftPadded(to: 6))", name: "\(city.name) \(category.label) \(index + 1)",
                    category: category, city: city, riskLevel: rng.chance(0.9) ? "low" : "medium", blocked: false))
            if category.mcc == "6011" {
                atms[city.name, default: []].append(index)
            } else if category.online {
                online.append(index)
            } else {
                local[city.name, default: []].append(index)
            }
        }
        // High-risk merchants (casinos, crypto, money transfer); some are on the block list.
        for i in 0..<max(12, c.merchantCount / 50) {
            let category = MerchantCategory.risky[i % MerchantCategory.risky.count]
            let city = allCities[rng.below(allCities.count)]
            let index = merchants.count
            let isBlocked = i % 2 == 0
            merchants.append(
                Merchant(
                    id: "m-\(String(index + 1).leftPadded(to: 6))", name: "\(category.label) \(index + 1)",
                    category: category, city: city, riskLevel: "high", blocked: isBlocked))
            if isBlocked { blocked.append(index) } else { risky.append(index) }
        }
        self.merchants = merchants
        localMerchants = local
        self.atms = atms
        onlineMerchants = online
        riskyMerchants = risky
        blockedMerchants = blocked
    }

    /// An account drawn by activity (binary search over the CDF).
    func sampleAccount(_ rng: inout SeededRandom) -> Int {
        guard let total = activityCDF.last else { return 0 }
        let x = rng.unit() * total
        var lo = 0
        var hi = activityCDF.count - 1
        while lo < hi {
            let mid = (lo + hi) / 2
            if activityCDF[mid] <= x { lo = mid + 1 } else { hi = mid }
        }
        return lo
    }
}

extension String {
    func leftPadded(to width: Int) -> String {
        count >= width ? self : String(repeating: "0", count: width - count) + self
    }
}

#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif
