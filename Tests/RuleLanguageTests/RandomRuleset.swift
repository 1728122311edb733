import VigilCore

@testable import RuleLanguage

/// Random rulesets and records for the differential test: many near-copies of the same
/// predicates with different constants (what the rule index groups), mixed with
/// predicates it cannot index, `or`s, `not`s, `require`, absent values, evaluation
/// errors, table lists, fail-closed and shadow rules.
struct RandomRuleset {
    var rng: FuzzTests.SplitMix

    static var header: String {
        """
        list mccs = ["5411", "5999", "6011"]
        list risky = ["KP", "IR", "RU"]
        list blocked_ips = table
        window w0 = count by account_id over 1h
        window w1 = avg amount_base by account_id over 1h
        policy {
          review at score >= 60
          block at score >= 100
        }

        """
    }

    static let channels = ["card_present", "card_not_present", "atm", "transfer"]
    static let countries = ["DE", "FR", "KP", "US", "RU"]

    mutating func pick<T>(_ items: [T]) -> T {
        items[Int.random(in: 0..<items.count, using: &rng)]
    }

    mutating func chance(_ p: Double) -> Bool { Double.random(in: 0..<1, using: &rng) < p }

    /// One leaf predicate; `country` may be read directly when the rule requires it.
    mutating func predicate(countryRequired: Bool) -> String {
        let amount = 50 * Int.random(in: 0...20, using: &rng)
        let n = Int.random(in: 0...6, using: &rng)
        let op = pick([">", ">=", "<", "<=", "=="])
        let options: [String] = [
            "amount_base \(op) \(amount).00",
            "\(amount).00 \(op) amount_base",
            "channel == \"\(pick(Self.channels))\"",
            "channel in [\"\(pick(Self.channels))\", \"\(pick(Self.channels))\"]",
            "channel != \"atm\"",
            "(country ?? \"\") == \"\(pick(Self.countries))\"",
            "(country ?? \"ZZ\") in risky",
            "(mcc ?? \"\") in mccs",
            "(mcc ?? \"\") not in mccs",
            "(present(country) and country == \"\(pick(Self.countries))\")",
            "profile.count \(op) \(n)",
            "hour_of_day < \(n * 4)",
            "\(n) <= day_of_week",
            "is_new_device",
            "not is_new_country",
            "window.w0 >= \(n)",
            "(window.w1 ?? 0.00) > \(amount).00",
            "amount_base > 3 * (profile.avg_amount ?? 1000.00)",
            "amount_base / (profile.avg_amount ?? 0.00) > \(n)",
            "(ip ?? \"\") in blocked_ips",
            "starts_with(account_id, \"acc-1\")",
            "missing(mcc)",
            "(account.age ?? 0s) < \(n * 10)d",
            countryRequired ? "country == \"\(pick(Self.countries))\"" : "true",
            countryRequired ? "country in risky" : "amount_base == 100.00",
        ]
        return pick(options)
    }

    mutating func condition(atoms: Int, countryRequired: Bool) -> String {
        if atoms <= 1 {
            let p = predicate(countryRequired: countryRequired)
            return chance(0.1) ? "not (\(p))" : p
        }
        let left = Int.random(in: 1..<atoms, using: &rng)
        let a = condition(atoms: left, countryRequired: countryRequired)
        let b = condition(atoms: atoms - left, countryRequired: countryRequired)
        return "(\(a) \(chance(0.7) ? "and" : "or") \(b))"
    }

    mutating func rules(_ count: Int) -> String {
        var text = Self.header
        for i in 0..<count {
            let countryRequired = chance(0.3)
            text += "rule r\(i) {\n"
            if countryRequired { text += "  require country\n" }
            text += "  when \(condition(atoms: Int.random(in: 1...4, using: &rng), countryRequired: countryRequired))\n"
            text += "  severity \(pick(["low", "medium", "high"]))\n  score \(Int.random(in: 0...100, using: &rng))\n"
            if chance(0.3) { text += "  mode shadow\n" }
            if chance(0.2) { text += "  on_error alert\n" }
            if chance(0.2) { text += "  action \(pick(["allow", "review", "block"]))\n" }
            text += "}\n\n"
        }
        return text
    }

    /// A record with every optional value sometimes absent and, rarely, a value of the
    /// wrong kind (a filling bug the evaluators must both report as an error).
    mutating func record(for ruleset: CompiledRuleset) -> EvaluationRecord {
        var r = EvaluationRecord(for: ruleset)
        let minor = Int64(5_000 * Int.random(in: 0...20, using: &rng) + pick([0, 0, 1, -1]))
        r[.accountID] = .string(pick(["acc-1", "acc-10", "acc-2"]))
        r[.amount] = .decimal(DecimalValue(units: minor * 10_000))
        r[.amountBase] = chance(0.03) ? pick([.absent, .int(5), .string("x")]) : r[.amount]
        r[.channel] = .string(pick(Self.channels))
        r[.country] = chance(0.2) ? .absent : .string(pick(Self.countries + ["NL"]))
        if chance(0.06) { r[.country] = .int(1) }
        r[.mcc] = chance(0.3) ? .absent : .string(pick(["5411", "5999", "6011", "4829"]))
        r[.ip] = chance(0.3) ? .absent : .string(pick(["203.0.113.9", "198.51.100.1"]))
        r[.profileCount] = chance(0.02) ? .absent : .int(Int64.random(in: 0...7, using: &rng))
        r[.profileAvgAmount] = chance(0.4) ? .absent : .decimal(DecimalValue(units: Int64.random(in: 0...300, using: &rng) * 1_000_000))
        r[.hourOfDay] = .int(Int64.random(in: 0...23, using: &rng))
        r[.dayOfWeek] = .int(Int64.random(in: 1...7, using: &rng))
        r[.isNewDevice] = .bool(chance(0.5))
        r[.isNewCountry] = chance(0.02) ? .absent : .bool(chance(0.5))
        r[.accountAge] = chance(0.3) ? .absent : .duration(Int64.random(in: 0...90, using: &rng) * 86_400_000_000)
        if r.windows.count >= 2 {
            r.windows[0] = chance(0.05) ? .absent : .int(Int64.random(in: 0...7, using: &rng))
            r.windows[1] = chance(0.4) ? .absent : .decimal(DecimalValue(units: Int64(50 * Int.random(in: 0...20, using: &rng)) * 1_000_000))
        }
        return r
    }
}
