import VigilCore

extension FeedGenerator.Iterator {
    /// One everyday transaction of account `a` at the current clock.
    mutating func legitimate(_ a: Int) -> Transaction {
        let account = world.accounts[a]
        history[a] += 1
        let u = rng.unit()
        let channel: Channel =
            u < account.channelCut.0
            ? .cardPresent
            : u < account.channelCut.1 ? .cardNotPresent : u < account.channelCut.2 ? .atm : .transfer
        let card = rng.pick(account.cards)
        var tx = Transaction(
            id: "", timestamp: time(clock), accountID: account.id, amount: Money(minorUnits: 1, currency: account.currency), channel: channel)
        switch channel {
        case .cardPresent, .atm:
            let city = currentCity(a)
            let pool = (channel == .atm ? world.atms[city.name] : world.localMerchants[city.name]) ?? world.onlineMerchants
            let merchant = world.merchants[favorite(a, pool)]
            tx.cardID = card
            tx.merchantID = merchant.id
            tx.mcc = merchant.category.mcc
            tx.country = city.country
            tx.latitude = ((city.latitude + rng.double(in: -0.05...0.05)) * 10_000).rounded() / 10_000
            tx.longitude = ((city.longitude + rng.double(in: -0.05...0.05)) * 10_000).rounded() / 10_000
            if channel == .atm {
                let eur = [20.0, 50, 100, 150, 200, 300][rng.below(6)] * max(1, account.medianEUR / 40)
                tx.amount = money(eur, account.currency, step: account.currency.exponent == 0 ? 1000 : 10)
            } else {
                tx.amount = money(account.medianEUR * merchant.category.amountFactor * exp(0.5 * rng.normal()), account.currency)
            }
            lastCardPresent[a] = clock
        case .cardNotPresent:
            let merchant = world.merchants[favorite(a, world.onlineMerchants)]
            tx.cardID = card
            tx.merchantID = merchant.id
            tx.mcc = merchant.category.mcc
            tx.country = merchant.city.country
            tx.deviceID = rng.pick(account.devices)
            tx.ip = account.ip
            tx.amount = money(account.medianEUR * merchant.category.amountFactor * exp(0.5 * rng.normal()), account.currency)
        case .transfer:
            tx.country = Geography.countries[account.country].code
            tx.deviceID = rng.pick(account.devices)
            tx.ip = account.ip
            tx.amount = money(account.medianEUR * 6 * exp(0.8 * rng.normal()), account.currency)
        }
        bigTicket(&tx, a)
        if account.population != .everyday { shape(&tx, a) }
        return tx
    }

    /// Occasional large legitimate spending, as real customers have it: a new customer
    /// buying a laptop, a flight or furniture in the first weeks, anyone moving a large sum
    /// (a car, a rent deposit, savings). Without it, "young account + high value" and
    /// "transfer near 10,000" would be fraud by construction rather than by behaviour.
    mutating func bigTicket(_ tx: inout Transaction, _ a: Int) {
        let account = world.accounts[a]
        let ageDays = Double(tx.timestamp.microsecondsSinceEpoch - account.openedAt.microsecondsSinceEpoch) / 86_400e6
        switch tx.channel {
        case .transfer:
            guard rng.chance(0.006) else { return }
            let eur = exp(rng.double(in: log(1_500.0)...log(25_000.0)))
            tx.amount = money(eur, account.currency, step: rng.chance(0.5) ? (account.currency.exponent == 0 ? 10_000 : 100) : 0)
        case .cardPresent:
            guard ageDays < 30, rng.chance(0.04) else { return }
            let city = clock < tripUntil[a] ? (tripCity[a] ?? account.city) : account.city
            let pool = (world.localMerchants[city.name] ?? []).filter { ["5732", "5311", "5691"].contains(world.merchants[$0].category.mcc) }
            guard let m = rng.pick(pool) else { return }
            tx.merchantID = world.merchants[m].id
            tx.mcc = world.merchants[m].category.mcc
            tx.amount = money(exp(rng.double(in: log(500.0)...log(3_500.0))), account.currency)
        case .cardNotPresent:
            guard ageDays < 30, rng.chance(0.04) else { return }
            let merchant = onlineMerchant(["4511", "5999"])
            tx.merchantID = merchant.id
            tx.mcc = merchant.category.mcc
            tx.country = merchant.city.country
            tx.amount = money(exp(rng.double(in: log(500.0)...log(3_500.0))), account.currency)
        case .atm:
            return
        }
    }

    /// Where the account's cards are physically used now: home, or a trip abroad that
    /// starts only after a quiet half day (so a trip never looks like impossible travel).
    mutating func currentCity(_ a: Int) -> City {
        let account = world.accounts[a]
        if let trip = tripCity[a], clock < tripUntil[a] { return trip }
        if account.population != .everyday, let trip = tripCity[a],
            Geography.distanceKM(trip, account.city) / max(1, clock - lastCardPresent[a]) * 3600 > 800
        {
            return trip  // still abroad: the flight home takes time
        }
        tripCity[a] = nil
        if account.population == .traveller { return travellerCity(a) }
        if clock - lastCardPresent[a] > 12 * 3600, rng.chance(0.01) {
            let countries = Geography.countries
            let other = countries[(account.country + 1 + rng.below(countries.count - 1)) % countries.count]
            let city = other.cities[rng.below(other.cities.count)]
            tripCity[a] = city
            tripUntil[a] = clock + rng.double(in: 2...6) * 86_400
            return city
        }
        return account.city
    }

    /// Most purchases go to a handful of regular merchants; the rest anywhere in the pool.
    mutating func favorite(_ a: Int, _ pool: [Int]) -> Int {
        guard !pool.isEmpty else { return 0 }
        if rng.chance(0.6) {
            var h = UInt64(truncatingIfNeeded: a) &* 0x9E37_79B9_7F4A_7C15 &+ UInt64(rng.below(5))
            h ^= h >> 29
            h = h &* 0xBF58_476D_1CE4_E5B9
            return pool[Int(h % UInt64(pool.count))]
        }
        return pool[rng.below(pool.count)]
    }
}

#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif
