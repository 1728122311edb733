import VigilCore

#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

extension World {
    /// Mean legitimate transactions per account per day of a population, relative to the
    /// configuration's everyday rate (business and micro accounts have absolute rates).
    static func meanDailyRate(_ p: Population, _ c: GeneratorConfiguration) -> Double {
        switch p {
        case .business: 250
        case .micro: 27.5
        case .traveller: 1.5 * c.transactionsPerAccountPerDay
        case .everyday, .newcomer, .payday, .family: c.transactionsPerAccountPerDay
        }
    }

    /// The span a mix's accounts fill with `c.count` transactions, before drawing them.
    static func estimatedSpan(_ c: GeneratorConfiguration) -> Double {
        let perDay = c.population.accountCDF.enumerated().reduce(0.0) { sum, entry in
            let (i, (p, cumulative)) = entry
            let share = cumulative - (i == 0 ? 0 : c.population.accountCDF[i - 1].1)
            return sum + share * meanDailyRate(p, c)
        }
        return Double(c.count) / max(1e-9, Double(c.accountCount) * perDay / 86_400)
    }

    /// Draws each regular account's population, reshapes it to match, and returns its
    /// daily rate (everyday-like accounts keep their Zipf share of the everyday rate).
    static func assignPopulations(
        _ accounts: inout [Account], zipf cdf: [Double], _ c: GeneratorConfiguration,
        _ rng: inout SeededRandom
    ) -> [Double] {
        let cuts = c.population.accountCDF
        let zipfTotal = cdf.last ?? 1
        var rates = [Double](repeating: 0, count: cdf.count)
        var family = 0
        var familyLeft = 0
        var familyDevice = ""
        var familyIP = ""
        for i in cdf.indices {
            let u = rng.unit()
            let population = cuts.first { u < $0.1 }?.0 ?? cuts.last?.0 ?? .everyday
            let zipfShare = (cdf[i] - (i == 0 ? 0 : cdf[i - 1])) / zipfTotal * Double(cdf.count)
            var a = accounts[i]
            a.population = population
            let n = String(i + 1).leftPadded(to: 7)
            switch population {
            case .everyday, .newcomer, .payday:
                rates[i] = c.transactionsPerAccountPerDay * zipfShare
            case .traveller:
                rates[i] = 1.5 * c.transactionsPerAccountPerDay * zipfShare
                a.medianEUR *= 1.5
            case .business:
                rates[i] = rng.double(in: 100...400)
                a.medianEUR = 60 * exp(0.5 * rng.normal())
                a.cards = (1...(3 + rng.below(8))).map { "card-\(n)-\($0)" }
                a.devices = (1...(2 + rng.below(3))).map { "dev-\(n)-\($0)" }
                a.channelCut = (0.3, 0.85, 0.85)
            case .micro:
                rates[i] = rng.double(in: 15...40)
                a.medianEUR = 4 * exp(0.3 * rng.normal())
                a.channelCut = (0.72, 0.97, 0.98)
            case .family:
                rates[i] = c.transactionsPerAccountPerDay * zipfShare
                if familyLeft == 0 {
                    family += 1
                    familyLeft = 2 + rng.below(4)
                    familyDevice = "dev-fam-\(String(family).leftPadded(to: 5))"
                    familyIP = a.ip
                }
                familyLeft -= 1
                a.devices = [familyDevice] + a.devices
                a.ip = familyIP
            }
            accounts[i] = a
        }
        return rates
    }

    /// A cumulative table over `rates` and the total rate per second.
    static func rateCDF(_ rates: [Double]) -> ([Double], Double) {
        var cdf = [Double](repeating: 0, count: rates.count)
        var total = 0.0
        for (i, r) in rates.enumerated() {
            total += r
            cdf[i] = total
        }
        return (cdf, max(1e-9, total / 86_400))
    }

    /// Newcomers open during the feed (their first purchase is often a large one).
    static func openNewcomers(_ accounts: inout [Account], span: Double, _ rng: inout SeededRandom, _ c: GeneratorConfiguration) {
        for i in accounts.indices where accounts[i].population == .newcomer && !accounts[i].fraudOnly {
            accounts[i].openedAt = c.start.adding(microseconds: Int64(rng.double(in: 0...max(1, span * 0.7)) * 1e6))
        }
    }
}
