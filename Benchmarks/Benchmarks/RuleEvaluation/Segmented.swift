import RuleLanguage
import VigilCore

/// Production-shaped rulesets: six rule families, each copied per segment (country,
/// channel, merchant category, risk tier) with thresholds that differ per copy, as risk
/// teams tune one rule per market; and records spread over the same segments.
enum Segmented {
    static let countries = [
        "DE", "FR", "NL", "BE", "ES", "IT", "PT", "AT", "CH", "PL", "CZ", "SE", "NO", "DK", "FI", "IE", "GB", "US", "CA", "MX",
        "BR", "AR", "JP", "KR", "CN", "IN", "SG", "AU", "NZ", "ZA", "NG", "EG", "TR", "GR", "RO", "HU", "UA", "IL", "AE", "SA",
    ]
    static let mccs = (0..<60).map { String(4_000 + $0 * 37) }
    static let channels = ["card_present", "card_not_present", "atm", "transfer"]

    /// A deterministic spread of numbers for rule `i` (thresholds, counts).
    static func spread(_ i: Int, _ salt: Int, _ range: Int) -> Int {
        var z = UInt64(truncatingIfNeeded: i &* 0x9e37_79b9 &+ salt &* 0x85eb_ca6b)
        z = (z ^ (z >> 16)) &* 0x45d9_f3b
        z ^= z >> 16
        return Int(z % UInt64(max(1, range)))
    }

    static func rules(_ count: Int) -> String {
        var text = """
            window velocity_1h = count by account_id over 1h
            window spend_24h = sum amount_base by account_id over 24h

            """
        for i in 0..<count {
            let family = i % 6
            let k = i / 6
            let country = countries[k % countries.count]
            let mcc = mccs[(k * 7) % mccs.count]
            let channel = channels[(k / countries.count) % channels.count]
            let threshold = 100 * (1 + spread(i, 1, 100))
            let condition: String
            var require = ""
            switch family {
            case 0:
                require = "  require country\n"
                condition = "country == \"\(country)\" and channel == \"\(channel)\" and amount_base > \(threshold).00"
            case 1:
                condition = "(mcc ?? \"\") == \"\(mcc)\" and window.velocity_1h >= \(2 + spread(i, 2, 8)) and amount_base > \(threshold / 4).00"
            case 2:
                require = "  require account.risk_tier\n"
                let more = [country, countries[(k + 1) % countries.count], countries[(k + 5) % countries.count]]
                condition =
                    "account.risk_tier == \"\(["low", "medium", "high"][k % 3])\" and (country ?? \"\") in [\(more.map { "\"\($0)\"" }.joined(separator: ", "))] and amount_base > \(threshold).00"
            case 3:
                condition = "is_new_device and (mcc ?? \"\") == \"\(mcc)\" and amount_base > \(threshold / 2).00"
            case 4:
                condition =
                    "channel == \"atm\" and (country ?? \"\") == \"\(country)\" and hour_of_day < \(1 + spread(i, 3, 6)) and amount_base > \(threshold / 5).00"
            default:
                require = "  require profile.avg_amount\n"
                condition =
                    "(mcc ?? \"\") == \"\(mcc)\" and profile.count >= \(5 + spread(i, 4, 20)) and amount_base > \(3 + spread(i, 5, 7)) * profile.avg_amount"
            }
            text += "rule s\(i) {\n\(require)  when \(condition)\n  severity medium\n  score \(spread(i, 6, 101))\n  mode shadow\n}\n\n"
        }
        return text
    }

    /// Records over the same segments: most countries and categories ruled, some not,
    /// optional values sometimes absent, amounts from cents to 20,000.
    static func records(for ruleset: CompiledRuleset, lists: ListSnapshot) -> [EvaluationRecord] {
        var rng = SystemRandomNumberGenerator()
        var state = WindowState(ruleset: ruleset)
        var records: [EvaluationRecord] = []
        guard let eur = Currency(code: "EUR") else { return [] }
        for i in 0..<Fixture.count {
            var r = EvaluationRecord(for: ruleset)
            // Amounts spread over four orders of magnitude, as card and transfer amounts are.
            let magnitude = Int64([100, 1_000, 10_000, 100_000][i % 4])
            let tx = Transaction(
                id: "tx-\(i)", timestamp: Timestamp(secondsSinceEpoch: 1_795_000_000 + Int64(i) * 37),
                accountID: "acc-\(i % 50)", cardID: "card-\(i % 80)",
                amount: Money(minorUnits: Int64.random(in: 1...20 * magnitude, using: &rng), currency: eur),
                merchantID: "m-\(i % 200)", mcc: i % 10 == 0 ? nil : String(4_000 + 37 * Int.random(in: 0..<70, using: &rng)),
                country: i % 12 == 0 ? nil : countries.randomElement(using: &rng).map { i % 7 == 0 ? "ZZ" : $0 },
                channel: Channel.allCases[i % Channel.allCases.count], deviceID: "dev-\(i % 30)", ip: "198.51.100.\(i % 250)")
            r.setTransaction(tx)
            r[.amountBase] = r[.amount]
            r[.baseCurrency] = .string("EUR")
            r[.profileCount] = .int(Int64(i % 40))
            if i % 5 != 0 { r[.profileAvgAmount] = .decimal(DecimalValue(units: Int64.random(in: 5...500, using: &rng) * 1_000_000)) }
            if i % 9 != 0 { r[.accountRiskTier] = .string(["low", "medium", "high"][i % 3]) }
            r[.isNewDevice] = .bool(i % 11 == 0)
            state.observe(&r, lists: lists)
            records.append(r)
        }
        return records
    }
}
