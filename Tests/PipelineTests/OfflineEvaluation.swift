import Detection
import FeedGenerator
import Foundation
import RuleLanguage
import VigilCore

/// The detection step of the pipeline run in one thread over a generated feed, without
/// PostgreSQL or the network: the same enrichment, windows, rules and profile updates in
/// the same order, so rules can be measured quickly on many seeds and mixes. The held-out
/// figures that count come from the real pipeline (HeldOutDetectionTests); this one is
/// how the tuning set was measured.
struct OfflineEvaluation {
    /// The score, and per rule the fraud cases it caught and the legitimate transactions it
    /// flagged by population.
    var score: DetectionScore
    var ruleFraudHits: [String: Int] = [:]
    var ruleFalseAlerts: [String: [String: Int]] = [:]

    init(ruleset: CompiledRuleset, configuration: GeneratorConfiguration) {
        let generator = FeedGenerator(configuration: configuration)
        let reference = Self.snapshot(generator.referenceData)
        let lists = reference.listSnapshot(for: ruleset)
        var windows = WindowState(ruleset: ruleset)
        var profiles: [String: AccountProfile] = [:]
        let history = SharedHistory()
        var record = EvaluationRecord(for: ruleset)
        var outcomes = RuleOutcomes()
        var cases: [String: (pattern: String, ids: [String])] = [:]
        var legitimate: [Population: Int] = [:]
        var alerts: [String: String] = [:]
        var ruleFraudCases: [String: Set<String>] = [:]
        var falseAlerts: [String: [String: Int]] = [:]
        for generated in generator {
            let tx = generated.transaction
            var profile = profiles[tx.accountID] ?? AccountProfile()
            let derived = Enricher.fill(&record, transaction: tx, reference: reference, profile: profile)
            record[.isLate] = .bool(false)
            Enricher.fillHistory(&record, transaction: tx, amountBase: derived.amountBase, history: history, update: true)
            windows.observe(&record, lists: lists)
            ruleset.evaluate(record, lists: lists, into: &outcomes)
            var hit = false
            for rule in ruleset.rules where rule.mode == .alert && outcomes.values[rule.index].isHit {
                hit = true
                if let fraud = generated.fraud {
                    ruleFraudCases[rule.id, default: []].insert(fraud.caseID)
                } else {
                    falseAlerts[rule.id, default: [:]][generated.population.rawValue, default: 0] += 1
                }
            }
            if hit { alerts[tx.id] = tx.accountID }
            if let fraud = generated.fraud {
                cases[fraud.caseID, default: (fraud.type.rawValue, [])].ids.append(tx.id)
            } else {
                legitimate[generated.population, default: 0] += 1
            }
            Enricher.update(&profile, with: tx, derived: derived)
            profiles[tx.accountID] = profile
        }
        let accounts = Dictionary(grouping: generator.accountPopulations, by: \.population)
        score = DetectionScore(
            cases: cases.values.map { ($0.pattern, $0.ids) },
            populations: Population.allCases.compactMap { p in
                guard let n = legitimate[p] else { return nil }
                return (p.rawValue, accounts[p]?.map(\.accountID) ?? [], n)
            },
            alerts: alerts)
        ruleFraudHits = ruleFraudCases.mapValues(\.count)
        ruleFalseAlerts = falseAlerts
    }

    /// What `vigil feed seed` would load, as the pipeline reads it back.
    static func snapshot(_ data: ReferenceData) -> ReferenceSnapshot {
        var snapshot = ReferenceSnapshot(baseCurrency: data.baseCurrency)
        for a in data.accounts {
            snapshot.accounts[a.id] = AccountInfo(
                openedAt: RFC3339.parse(a.openedAt), homeCountry: a.homeCountry,
                riskTier: a.riskTier, timeZone: TimeZone(identifier: a.timezone))
        }
        for m in data.merchants { snapshot.merchants[m.id] = MerchantInfo(riskLevel: m.riskLevel, country: m.country) }
        for r in data.fxRates { snapshot.fxRates[r.currency] = DecimalValue(parsing: r.rateToBase) }
        for l in data.lists { snapshot.lists[l.name] = Set(l.values) }
        return snapshot
    }

    /// One line per rule: the cases it caught and its false alerts by population.
    var ruleReport: String {
        Set(ruleFraudHits.keys).union(ruleFalseAlerts.keys).sorted().map { rule in
            let fp = (ruleFalseAlerts[rule] ?? [:]).sorted { $0.key < $1.key }.map { "\($0.key)=\($0.value)" }.joined(separator: " ")
            return "  \(rule): caught \(ruleFraudHits[rule] ?? 0) cases; false alerts \(fp)"
        }.joined(separator: "\n")
    }
}
