import VigilCore

#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

extension FeedGenerator.Iterator {
    /// The next case's pattern: uniform over the original nine for the default mix
    /// (exactly the draw it always was), else by the mix's weights.
    mutating func pickPattern() -> FraudType {
        if configuration.population.isDefault { return FraudType.original[rng.below(FraudType.original.count)] }
        let u = rng.unit()
        return fraudCDF.first { u < $0.1 }?.0 ?? fraudCDF.last?.0 ?? .amountAnomaly
    }

    /// Reshapes an everyday transaction into what the account's population does.
    mutating func shape(_ tx: inout Transaction, _ a: Int) {
        let account = world.accounts[a]
        switch account.population {
        case .everyday, .business, .payday:
            return
        case .micro:
            // Transit, coffee and snacks in person; apps and streaming online.
            guard rng.chance(0.9) else { return }
            if tx.channel == .cardPresent, let m = localMerchant(a, ["5814", "4121"]) {
                tx.merchantID = m.id
                tx.mcc = m.category.mcc
            } else if tx.channel == .cardNotPresent {
                let m = onlineMerchant(["5818", "4899"])
                tx.merchantID = m.id
                tx.mcc = m.category.mcc
                tx.country = m.city.country
            } else {
                return
            }
            tx.amount = money(account.medianEUR * exp(0.4 * rng.normal()), account.currency)
        case .traveller:
            // Abroad: hotels and restaurants at several times the usual spend.
            guard tripCity[a] != nil, tx.channel == .cardPresent, rng.chance(0.3),
                let m = localMerchant(a, ["7011", "5812"])
            else { return }
            tx.merchantID = m.id
            tx.mcc = m.category.mcc
            tx.amount = money(account.medianEUR * m.category.amountFactor * rng.double(in: 1...3), account.currency)
        case .newcomer:
            // A new customer's first purchases are often the reason they opened the account.
            guard history[a] <= 2, tx.channel == .cardPresent || tx.channel == .cardNotPresent, rng.chance(0.6) else { return }
            if tx.channel == .cardNotPresent {
                let m = onlineMerchant(["4511", "5999"])
                tx.merchantID = m.id
                tx.mcc = m.category.mcc
                tx.country = m.city.country
            } else if let m = localMerchant(a, ["5732", "5311"]) {
                tx.merchantID = m.id
                tx.mcc = m.category.mcc
            }
            tx.amount = money(exp(rng.double(in: log(500.0)...log(3_000.0))), account.currency)
        case .family:
            // The shared tablet at home is the family's usual device for online payments.
            if tx.deviceID != nil, rng.chance(0.7) { tx.deviceID = account.devices.first }
        }
    }

    /// A card-present merchant in the account's current city with one of `mccs`.
    mutating func localMerchant(_ a: Int, _ mccs: Set<String>) -> Merchant? {
        let account = world.accounts[a]
        let city = clock < tripUntil[a] ? (tripCity[a] ?? account.city) : account.city
        let pool = (world.localMerchants[city.name] ?? []).filter { mccs.contains(world.merchants[$0].category.mcc) }
        return rng.pick(pool).map { world.merchants[$0] }
    }

    /// A frequent traveller leaves every few days, long-haul as often as not, on a flight
    /// that takes as long as the distance needs (never faster than 800 km/h).
    mutating func travellerCity(_ a: Int) -> City {
        let account = world.accounts[a]
        let quiet = clock - lastCardPresent[a]
        guard quiet > 3 * 3600, rng.chance(0.08) else { return account.city }
        let reachable = Geography.countries.flatMap(\.cities).filter {
            $0.country != account.city.country && Geography.distanceKM($0, account.city) / (quiet / 3600) < 800
        }
        guard let city = rng.pick(reachable) else { return account.city }
        tripCity[a] = city
        tripUntil[a] = clock + rng.double(in: 1...4) * 86_400
        return city
    }

    /// On a payday (the 1st, 15th and 25th, UTC) a payday account goes on a spree the first
    /// time it pays: 5 to 14 more purchases over one to four hours, at up to three times
    /// its usual spend. Legitimate, and as bursty as card testing or a takeover.
    mutating func maybePaydaySpree(_ a: Int) {
        let seconds = time(clock).secondsSinceEpoch
        let day = Int32(truncatingIfNeeded: seconds / 86_400)
        guard paydaySpree[a] != day else { return }
        let (_, _, dayOfMonth) = RFC3339.civilFromDays(Int64(day))
        guard [1, 15, 25].contains(dayOfMonth) else { return }
        paydaySpree[a] = day
        let start = clock
        let length = rng.double(in: 1...4) * 3600
        let saved = clock
        for _ in 0..<rng.int(in: 5...14) {
            clock = start + rng.double(in: 60...length)
            var tx = legitimate(a)
            if tx.channel == .transfer || tx.channel == .atm { continue }
            tx.amount = money(world.accounts[a].medianEUR * rng.double(in: 1...3), tx.amount.currency)
            pending.push(schedule(tx, label: nil))
        }
        clock = saved
    }
}
