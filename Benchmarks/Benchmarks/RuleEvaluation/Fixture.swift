import RuleLanguage
import VigilCore

/// 1,024 varied records with enrichment and window values filled, built before measuring.
struct Fixture {
    static let count = 1_024
    static let mask = count - 1
    var records: [EvaluationRecord] = []
    let lists: ListSnapshot

    init(ruleset: CompiledRuleset) {
        lists = ListSnapshot(ruleset: ruleset, contents: ["sanctioned_countries": ["RU", "BY"], "blocked_ips": ["203.0.113.9"]], version: "bench")
        var rng = SystemRandomNumberGenerator()
        let countries = ["DE", "FR", "NL", "US", "GB", "KP", "RU", "ES"]
        let channels = Channel.allCases
        let eur = Currency(code: "EUR")
        var state = WindowState(ruleset: ruleset)
        for i in 0..<Fixture.count {
            var r = EvaluationRecord(for: ruleset)
            guard let eur else { break }
            let minor = Int64.random(in: 100...2_000_000, using: &rng)
            let tx = Transaction(
                id: "tx-\(i)", timestamp: Timestamp(secondsSinceEpoch: 1_795_000_000 + Int64(i) * 7),
                accountID: "acc-\(i % 50)", cardID: i % 9 == 0 ? nil : "card-\(i % 80)",
                amount: Money(minorUnits: minor, currency: eur), merchantID: "m-\(i % 200)",
                mcc: i % 3 == 0 ? "5999" : "5411", country: countries[i % countries.count],
                channel: channels[i % channels.count], deviceID: i % 4 == 0 ? nil : "dev-\(i % 30)", ip: "198.51.100.\(i % 250)")
            r.setTransaction(tx)
            r[.amountBase] = r[.amount]
            r[.baseCurrency] = .string("EUR")
            r[.profileCount] = .int(Int64(i % 120))
            if i % 5 != 0 {
                r[.profileAvgAmount] = .decimal(DecimalValue(units: 40_000_000))
                r[.profileStddevAmount] = .decimal(DecimalValue(units: 15_000_000))
                r[.profileHourShare] = .decimal(DecimalValue(units: Int64(i % 100) * 1_000))
                r[.accountAge] = .duration(Int64(i % 90) * 86_400_000_000)
            }
            if i % 7 != 0 {
                r[.distanceKmFromLast] = .decimal(DecimalValue(units: Int64(i % 9000) * 1_000_000))
                r[.speedKmhFromLast] = .decimal(DecimalValue(units: Int64(i % 1500) * 1_000_000))
                r[.profileLastCountry] = .string(countries[(i + 1) % countries.count])
            }
            r[.isNewDevice] = .bool(i % 11 == 0)
            r[.isNewCountry] = .bool(i % 13 == 0)
            r[.isNewCard] = .bool(i % 17 == 0)
            r[.isNewMerchant] = .bool(false)
            state.observe(&r, lists: lists)
            records.append(r)
        }
    }
}

/// Generated rulesets: a mix of comparisons, list lookups, window reads and absence handling.
enum Generated {
    static func rules(_ count: Int) -> String {
        var text = """
            list high_risk = ["KP", "IR", "SY", "CU"]
            list blocked_ips = table
            window w0 = count by account_id over 1h
            window w1 = sum amount_base by account_id over 24h
            window w2 = count_distinct card_id by device_id over 24h
            window w3 = count by card_id over 10m where channel == "card_not_present"

            """
        for i in 0..<count {
            let condition: String
            switch i % 5 {
            case 0: condition = "amount_base > \(100 + i).00 and window.w0 >= \(3 + i % 7)"
            case 1: condition = "(country ?? \"\") in high_risk or (ip ?? \"\") in blocked_ips"
            case 2: condition = "present(profile.avg_amount) and amount_base > \(2 + i % 4) * profile.avg_amount and profile.count >= 10"
            case 3: condition = "window.w1 > \(5000 + i).00 and channel == \"transfer\" and hour_of_day < \(i % 24)"
            default: condition = "(window.w3 ?? 0) >= \(3 + i % 5) and amount_base < 5.00 or (window.w2 ?? 0) > \(2 + i % 3)"
            }
            text += "rule r\(i) {\n  when \(condition)\n  severity low\n  score \(i % 101)\n}\n\n"
        }
        return text
    }
}
