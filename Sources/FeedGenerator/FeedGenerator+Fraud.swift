import VigilCore

extension FeedGenerator.Iterator {
    /// Starts a fraud case now and then, early enough that it completes inside the stream.
    mutating func maybeStartCase() {
        let p = configuration.fraudCasesPerThousand / 1000
        guard p > 0, rng.chance(p) else { return }
        let span = world.span
        guard clock < span - min(86_400, span * 0.25), emitted + pending.count + 40 < configuration.count else { return }
        var type = pickPattern()
        var txs = scenario(type)
        if txs.isEmpty {
            type = .amountAnomaly
            txs = scenario(type)
        }
        guard !txs.isEmpty else { return }
        caseCounter += 1
        let label = FraudLabel(caseID: "case-" + String(caseCounter).leftPadded(to: 6), type: type)
        for tx in txs { pending.push(schedule(tx, label: label)) }
    }

    /// A victim with enough history for "unusual for this account" to mean something.
    mutating func victim(where accept: (Account) -> Bool = { _ in true }) -> Int? {
        for _ in 0..<40 {
            let a = world.sampleAccount(&rng)
            if history[a] >= 8, accept(world.accounts[a]) { return a }
        }
        return nil
    }

    func base(_ a: Int, at seconds: Double, _ channel: Channel) -> Transaction {
        let account = world.accounts[a]
        return Transaction(
            id: "", timestamp: time(seconds), accountID: account.id, amount: Money(minorUnits: 1, currency: account.currency), channel: channel)
    }

    mutating func online(_ tx: inout Transaction, _ merchant: Merchant, device: String, ip: String) {
        tx.merchantID = merchant.id
        tx.mcc = merchant.category.mcc
        tx.country = merchant.city.country
        tx.deviceID = device
        tx.ip = ip
    }

    mutating func present(_ tx: inout Transaction, _ merchant: Merchant, at city: City) {
        tx.merchantID = merchant.id
        tx.mcc = merchant.category.mcc
        tx.country = city.country
        tx.latitude = ((city.latitude + rng.double(in: -0.03...0.03)) * 10_000).rounded() / 10_000
        tx.longitude = ((city.longitude + rng.double(in: -0.03...0.03)) * 10_000).rounded() / 10_000
    }

    mutating func foreignIP(avoiding country: Int) -> String {
        let pool = Geography.countries + Geography.highRiskCountries
        var c = pool[rng.below(pool.count)]
        if c.code == Geography.countries[country].code { c = Geography.highRiskCountries[0] }
        return "\(c.ipOctet).\(rng.below(256)).\(rng.below(256)).\(1 + rng.below(254))"
    }

    mutating func onlineMerchant(_ mccs: Set<String>) -> Merchant {
        let matching = world.onlineMerchants.filter { mccs.contains(world.merchants[$0].category.mcc) }
        return world.merchants[rng.pick(matching) ?? rng.pick(world.onlineMerchants) ?? 0]
    }

    /// Card testing: small charges on one card from a foreign ip at a few online merchants,
    /// `gap` seconds apart, then (four times in ten) one larger charge `cashOutAfter` later
    /// (nil: right after). The random draws keep their order, so seeded feeds do not change.
    mutating func cardTesting(
        probes: ClosedRange<Int>, gap: ClosedRange<Double>, cashOutAfter: ClosedRange<Double>?, fraudDevice: String, start: Double
    ) -> [Transaction] {
        guard let a = victim(), let card = rng.pick(world.accounts[a].cards) else { return [] }
        var t = start
        var out: [Transaction] = []
        let ip = foreignIP(avoiding: world.accounts[a].country)
        let merchants = (0..<rng.int(in: 1...3)).map { _ in onlineMerchant(["5818", "4899", "5967", "5999"]) }
        for i in 0..<rng.int(in: probes) {
            var tx = base(a, at: t, .cardNotPresent)
            tx.cardID = card
            online(&tx, merchants[i % merchants.count], device: fraudDevice, ip: ip)
            tx.amount = money(rng.double(in: 0.5...4), tx.amount.currency)
            out.append(tx)
            t += rng.double(in: gap)
        }
        if rng.chance(0.4) {
            let at = cashOutAfter.map { t + rng.double(in: $0) } ?? t
            var tx = base(a, at: at, .cardNotPresent)
            tx.cardID = card
            online(&tx, onlineMerchant(["5999", "5732"]), device: fraudDevice, ip: ip)
            tx.amount = money(rng.double(in: 80...600), tx.amount.currency)
            out.append(tx)
        }
        return out
    }

    /// The transactions of one case of `type`, starting at or after the clock; empty when
    /// no suitable account exists right now.
    mutating func scenario(_ type: FraudType) -> [Transaction] {
        let fraudDevice = "dev-x\(caseCounter + 1)-\(rng.below(10_000))"
        var t = clock + rng.double(in: 5...600)
        var out: [Transaction] = []
        switch type {
        case .cardTesting:
            return cardTesting(probes: 5...25, gap: 3...60, cashOutAfter: 30...600, fraudDevice: fraudDevice, start: t)
        case .accountTakeover:
            guard let a = victim() else { return [] }
            let account = world.accounts[a]
            let ip = foreignIP(avoiding: account.country)
            for _ in 0..<rng.int(in: 4...12) {
                var tx: Transaction
                if rng.chance(0.5) {
                    tx = base(a, at: t, .transfer)
                    tx.country = Geography.countries[account.country].code
                    tx.deviceID = fraudDevice
                    tx.ip = ip
                    tx.amount = money(rng.double(in: 200...2500), account.currency)
                } else {
                    tx = base(a, at: t, .cardNotPresent)
                    tx.cardID = rng.pick(account.cards)
                    online(&tx, onlineMerchant(["5999", "4511", "5818"]), device: fraudDevice, ip: ip)
                    tx.amount = money(rng.double(in: 100...1500), account.currency)
                }
                out.append(tx)
                t += rng.double(in: 30...480)
            }
        case .amountAnomaly:
            guard let a = victim() else { return [] }
            let account = world.accounts[a]
            var tx = base(a, at: t, rng.chance(0.5) ? .cardPresent : .cardNotPresent)
            tx.cardID = rng.pick(account.cards)
            if tx.channel == .cardPresent {
                let pool = (world.localMerchants[account.city.name] ?? []).filter {
                    ["5732", "5944", "5311"].contains(world.merchants[$0].category.mcc)
                }
                guard let m = rng.pick(pool) ?? rng.pick(world.localMerchants[account.city.name] ?? []) else { return [] }
                present(&tx, world.merchants[m], at: account.city)
            } else {
                online(&tx, onlineMerchant(["5999", "4511"]), device: rng.pick(account.devices) ?? fraudDevice, ip: account.ip)
            }
            tx.amount = money(max(300, account.medianEUR * rng.double(in: 15...60)), account.currency)
            out.append(tx)
        case .newAccountHighValue:
            let accounts = world.bustOutAccounts
            while bustOutCursor < accounts.count,
                world.accounts[accounts[bustOutCursor]].openedAt < time(clock - 2 * 86_400)
            { bustOutCursor += 1 }
            guard bustOutCursor < accounts.count, world.accounts[accounts[bustOutCursor]].openedAt <= time(clock) else { return [] }
            let a = accounts[bustOutCursor]
            bustOutCursor += 1
            let account = world.accounts[a]
            for _ in 0..<rng.int(in: 1...3) {
                var tx = base(a, at: t, .cardNotPresent)
                tx.cardID = account.cards.first
                online(&tx, onlineMerchant(["5999", "4511", "5732"]), device: rng.pick(account.devices) ?? fraudDevice, ip: account.ip)
                tx.amount = money(rng.double(in: 1200...8000), account.currency)
                out.append(tx)
                t += rng.double(in: 60...5400)
            }
        case .impossibleTravel:
            guard let a = victim(), let card = rng.pick(world.accounts[a].cards) else { return [] }
            let account = world.accounts[a]
            let gapHours = rng.double(in: 10...120) / 60
            let far = Geography.countries.flatMap(\.cities).filter { Geography.distanceKM($0, account.city) / gapHours > 900 }
            guard let city = rng.pick(far), let home = rng.pick(world.localMerchants[account.city.name] ?? []),
                let away = rng.pick(world.localMerchants[city.name] ?? world.atms[city.name] ?? [])
            else { return [] }
            var first = base(a, at: t, .cardPresent)
            first.cardID = card
            present(&first, world.merchants[home], at: account.city)
            first.amount = money(account.medianEUR * exp(0.4 * rng.normal()), account.currency)
            var second = base(a, at: t + gapHours * 3600, .cardPresent)
            second.cardID = card
            present(&second, world.merchants[away], at: city)
            second.amount = money(rng.double(in: 60...1500), account.currency)
            out = [first, second]
        case .structuring:
            guard let a = victim(where: { ["EUR", "USD", "GBP", "CHF"].contains($0.currency.code) }) else { return [] }
            let account = world.accounts[a]
            let window = min(20 * 3600, world.span * 0.2)
            for _ in 0..<rng.int(in: 3...6) {
                var tx = base(a, at: t, .transfer)
                tx.country = Geography.countries[account.country].code
                tx.deviceID = rng.pick(account.devices)
                tx.ip = account.ip
                let major = (10_000 * rng.double(in: 0.86...0.995) / 10).rounded() * 10
                tx.amount = Money(minorUnits: Int64(major) * account.currency.minorUnitsPerMajor, currency: account.currency)
                out.append(tx)
                t += rng.double(in: 0.1...0.3) * window
            }
        case .deviceFarm:
            let ip = foreignIP(avoiding: 0)
            let merchants = (0..<rng.int(in: 1...3)).map { _ in onlineMerchant(["5999", "5818", "5732"]) }
            var used = Set<Int>()
            for _ in 0..<rng.int(in: 5...15) {
                let a = world.sampleAccount(&rng)
                guard used.insert(a).inserted, let card = rng.pick(world.accounts[a].cards) else { continue }
                for _ in 0..<rng.int(in: 1...2) {
                    var tx = base(a, at: t, .cardNotPresent)
                    tx.cardID = card
                    online(&tx, merchants[rng.below(merchants.count)], device: fraudDevice, ip: ip)
                    tx.amount = money(rng.double(in: 20...400), tx.amount.currency)
                    out.append(tx)
                    t += rng.double(in: 20...360)
                }
            }
            if used.count < 4 { return [] }
        case .riskyDestination:
            guard let a = victim(), let card = rng.pick(world.accounts[a].cards) else { return [] }
            let account = world.accounts[a]
            if rng.chance(0.5), let m = rng.pick(world.blockedMerchants) {
                var tx = base(a, at: t, .cardNotPresent)
                tx.cardID = card
                online(&tx, world.merchants[m], device: rng.pick(account.devices) ?? fraudDevice, ip: account.ip)
                tx.amount = money(rng.double(in: 50...2000), account.currency)
                out.append(tx)
            } else {
                let city = Geography.highRiskCountries[rng.below(Geography.highRiskCountries.count)].cities[0]
                var tx = base(a, at: t, rng.chance(0.5) ? .atm : .cardPresent)
                tx.cardID = card
                tx.country = city.country
                tx.latitude = city.latitude
                tx.longitude = city.longitude
                tx.mcc = tx.channel == .atm ? "6011" : "5999"
                tx.amount = money(rng.double(in: 100...1000), account.currency)
                out.append(tx)
            }
        case .unusualHour:
            guard let a = victim(), let card = rng.pick(world.accounts[a].cards) else { return [] }
            let account = world.accounts[a]
            let target = rng.double(in: 5400...16_200)
            var delta = (target - localSecondOfDay(account, clock) + 86_400).truncatingRemainder(dividingBy: 86_400)
            if delta < 60 { delta += 86_400 }
            t = clock + delta
            for _ in 0..<rng.int(in: 1...2) {
                var tx = base(a, at: t, rng.chance(0.6) ? .cardNotPresent : .atm)
                tx.cardID = card
                if tx.channel == .atm, let m = rng.pick(world.atms[account.city.name] ?? []) {
                    present(&tx, world.merchants[m], at: account.city)
                    tx.amount = money(rng.double(in: 200...800), account.currency, step: account.currency.exponent == 0 ? 1000 : 10)
                } else {
                    tx.channel = .cardNotPresent
                    online(
                        &tx, onlineMerchant(["5999", "5732"]), device: rng.chance(0.5) ? fraudDevice : (rng.pick(account.devices) ?? fraudDevice),
                        ip: account.ip)
                    tx.amount = money(max(150, account.medianEUR * rng.double(in: 3...12)), account.currency)
                }
                out.append(tx)
                t += rng.double(in: 60...900)
            }
        case .cardTestingSlow, .takeoverSmallFirst, .highActivityTakeover:
            return imitatingScenario(type, fraudDevice: fraudDevice, start: t)
        }
        return out
    }
}

#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif
