import Foundation

/// How well a set of alerts caught a labeled generated feed: recall per fraud pattern,
/// false-alert rate per legitimate population, and precision.
///
/// A case is caught when any of its transactions raised an alert. A legitimate
/// transaction is flagged when it raised an alert; it counts against its account's
/// population. Precision is the share of alerted transactions that are labeled fraud.
public struct DetectionScore: Sendable, Hashable {
    /// Caught and total cases of one pattern, or flagged and total transactions of one population.
    public struct Tally: Sendable, Hashable {
        public var hits = 0
        public var total = 0
        /// `hits / total`, 0 when there is nothing to count.
        public var rate: Double { total == 0 ? 0 : Double(hits) / Double(total) }
    }

    /// Cases caught per fraud pattern (raw names, e.g. `card_testing`).
    public var byPattern: [String: Tally] = [:]
    /// Legitimate transactions flagged per population (raw names, e.g. `business`).
    public var byPopulation: [String: Tally] = [:]
    /// Alerted transactions, and how many of them are labeled fraud.
    public var alerted = 0
    public var alertedFraud = 0

    /// All cases together.
    public var cases: Tally {
        byPattern.values.reduce(into: Tally()) {
            $0.hits += $1.hits
            $0.total += $1.total
        }
    }
    /// All legitimate transactions together.
    public var legitimate: Tally {
        byPopulation.values.reduce(into: Tally()) {
            $0.hits += $1.hits
            $0.total += $1.total
        }
    }
    /// Share of alerted transactions that are fraud (1 when nothing alerted).
    public var precision: Double { alerted == 0 ? 1 : Double(alertedFraud) / Double(alerted) }

    /// Scores `alerts` (transaction id → account id) against the case labels
    /// (pattern → transaction ids, one entry per case) and the populations
    /// (population → its accounts and legitimate transaction count).
    public init(
        cases: [(pattern: String, transactionIDs: [String])],
        populations: [(population: String, accountIDs: [String], legitimateTransactions: Int)],
        alerts: [String: String]
    ) {
        var fraudIDs = Set<String>()
        for c in cases {
            fraudIDs.formUnion(c.transactionIDs)
            byPattern[c.pattern, default: Tally()].total += 1
            if c.transactionIDs.contains(where: { alerts[$0] != nil }) { byPattern[c.pattern, default: Tally()].hits += 1 }
        }
        var populationOf: [String: String] = [:]
        for p in populations {
            for account in p.accountIDs { populationOf[account] = p.population }
            byPopulation[p.population, default: Tally()].total += p.legitimateTransactions
        }
        for (id, account) in alerts {
            alerted += 1
            if fraudIDs.contains(id) {
                alertedFraud += 1
                continue
            }
            byPopulation[populationOf[account] ?? "unlabeled", default: Tally()].hits += 1
        }
    }

    /// The report `vigil feed score` prints.
    public var text: String {
        func pct(_ x: Double, _ digits: Int) -> String { String(format: "%.\(digits)f%%", x * 100) }
        var lines = [
            "labeled fraud cases caught: \(cases.hits) of \(cases.total) (\(pct(cases.rate, 1)))",
            "legitimate transactions flagged: \(legitimate.hits) of \(legitimate.total) (\(pct(legitimate.rate, 2)))",
            "precision: \(alertedFraud) of \(alerted) alerted transactions are fraud (\(pct(precision, 1)))",
            "recall by pattern:",
        ]
        for (name, t) in byPattern.sorted(by: { $0.key < $1.key }) {
            lines.append("  \(name.padding(toLength: 30, withPad: " ", startingAt: 0)) \(t.hits)/\(t.total) (\(pct(t.rate, 1)))")
        }
        lines.append("false alerts by population:")
        for (name, t) in byPopulation.sorted(by: { $0.key < $1.key }) {
            lines.append("  \(name.padding(toLength: 30, withPad: " ", startingAt: 0)) \(t.hits)/\(t.total) (\(pct(t.rate, 2)))")
        }
        return lines.joined(separator: "\n")
    }

    /// The report as one JSON object.
    public var json: String {
        func tallies(_ d: [String: Tally], _ hits: String, _ total: String) -> String {
            d.keys.sorted().map { "\"\($0)\":{\"\(hits)\":\(d[$0]?.hits ?? 0),\"\(total)\":\(d[$0]?.total ?? 0),\"rate\":\(d[$0]?.rate ?? 0)}" }
                .joined(separator: ",")
        }
        return "{\"cases\":\(cases.total),\"caught\":\(cases.hits),\"catch_rate\":\(cases.rate),\"legitimate\":\(legitimate.total),"
            + "\"false_positives\":\(legitimate.hits),\"false_positive_rate\":\(legitimate.rate),\"precision\":\(precision),"
            + "\"by_type\":{\(tallies(byPattern, "caught", "cases"))},\"by_population\":{\(tallies(byPopulation, "flagged", "transactions"))}}"
    }
}
