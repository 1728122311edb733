import VigilCore

extension FeedGenerator.Iterator {
    /// The fraud patterns that imitate a legitimate population; empty when no suitable
    /// victim exists right now.
    mutating func imitatingScenario(_ type: FraudType, fraudDevice: String, start: Double) -> [Transaction] {
        var t = start
        var out: [Transaction] = []
        switch type {
        case .cardTestingSlow:
            // Under any 30-minute burst threshold: one small charge every 10 to 40 minutes.
            return cardTesting(probes: 8...20, gap: 600...2400, cashOutAfter: nil, fraudDevice: fraudDevice, start: t)
        case .takeoverSmallFirst:
            // A few small purchases to check the access works, then the large ones.
            guard let a = victim() else { return [] }
            let account = world.accounts[a]
            let ip = foreignIP(avoiding: account.country)
            for _ in 0..<rng.int(in: 2...4) {
                var tx = base(a, at: t, .cardNotPresent)
                tx.cardID = rng.pick(account.cards)
                online(&tx, onlineMerchant(["5818", "5999"]), device: fraudDevice, ip: ip)
                tx.amount = money(rng.double(in: 5...40), account.currency)
                out.append(tx)
                t += rng.double(in: 600...3600)
            }
            for _ in 0..<rng.int(in: 3...6) {
                var tx: Transaction
                if rng.chance(0.5) {
                    tx = base(a, at: t, .transfer)
                    tx.country = Geography.countries[account.country].code
                    tx.deviceID = fraudDevice
                    tx.ip = ip
                } else {
                    tx = base(a, at: t, .cardNotPresent)
                    tx.cardID = rng.pick(account.cards)
                    online(&tx, onlineMerchant(["5999", "4511", "5732"]), device: fraudDevice, ip: ip)
                }
                tx.amount = money(rng.double(in: 200...2000), account.currency)
                out.append(tx)
                t += rng.double(in: 120...600)
            }
        case .highActivityTakeover:
            // Hidden in an account that makes hundreds of transactions a day anyway.
            guard let a = victim(where: { $0.population == .business }) else { return [] }
            let account = world.accounts[a]
            let ip = foreignIP(avoiding: account.country)
            for _ in 0..<rng.int(in: 4...10) {
                var tx = base(a, at: t, .cardNotPresent)
                tx.cardID = rng.pick(account.cards)
                online(&tx, onlineMerchant(["5999", "5732", "4511"]), device: fraudDevice, ip: ip)
                tx.amount = money(rng.double(in: 150...1500), account.currency)
                out.append(tx)
                t += rng.double(in: 60...480)
            }
        default:
            return []
        }
        return out
    }
}
