import Detection
import FeedGenerator
import Foundation
import RuleLanguage
import VigilCore

/// What the detection benchmarks run: 20,000 transactions of the `bank` mix (seed 7), the
/// ruleset in `Rules/` and the one to compare it with.
public struct DetectionWorkload: Sendable {
    /// The rules in this checkout's `Rules/`.
    public let current: CompiledRuleset
    /// The rules of the "before" variant: `VIGIL_BEFORE_RULES` (another checkout's `Rules/`,
    /// e.g. main's, so both variants run in the same process on the same machine), else `current`.
    public let before: CompiledRuleset
    public let transactions: [Transaction]
    public let reference: ReferenceSnapshot

    /// Loads it, or prints why not and returns nil.
    public static func load() -> DetectionWorkload? {
        let rulesDirectory = URL(fileURLWithPath: #filePath)
            .deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent()
            .deletingLastPathComponent().appendingPathComponent("Rules").path
        guard let current = RulesetLoader.load(paths: [rulesDirectory]).ruleset else {
            print("\(rulesDirectory) does not compile; run `vigil rules check Rules`")
            return nil
        }
        var before = current
        if let path = ProcessInfo.processInfo.environment["VIGIL_BEFORE_RULES"] {
            guard let ruleset = RulesetLoader.load(paths: [path]).ruleset else {
                print("VIGIL_BEFORE_RULES=\(path) does not compile; run `vigil rules check \(path)`")
                return nil
            }
            before = ruleset
        }
        let generator = FeedGenerator(configuration: GeneratorConfiguration(count: 20_000, seed: 7, population: .bank))
        return DetectionWorkload(
            current: current, before: before, transactions: generator.map(\.transaction),
            reference: DetectionPass.snapshot(generator.referenceData))
    }
}

/// The detection step without I/O: enrichment, windows, rules and profile updates, with
/// or without the shared histories (what `Detector.detect` does per transaction).
public enum DetectionPass {
    public static func run(_ transactions: [Transaction], ruleset: CompiledRuleset, reference: ReferenceSnapshot, history: SharedHistory?) -> Int {
        let lists = reference.listSnapshot(for: ruleset)
        var windows = WindowState(ruleset: ruleset)
        var profiles: [String: AccountProfile] = [:]
        var record = EvaluationRecord(for: ruleset)
        var outcomes = RuleOutcomes()
        var hits = 0
        for tx in transactions {
            var profile = profiles.removeValue(forKey: tx.accountID) ?? AccountProfile()
            let derived = Enricher.fill(&record, transaction: tx, reference: reference, profile: profile)
            record[.isLate] = .bool(false)
            if let history {
                Enricher.fillHistory(
                    &record, transaction: tx, amountBase: derived.amountBase, history: history, update: true, reads: ruleset.fieldsRead)
            }
            windows.observe(&record, lists: lists)
            ruleset.evaluate(record, lists: lists, into: &outcomes)
            for rule in ruleset.rules where outcomes.values[rule.index].isHit { hits += 1 }
            Enricher.update(&profile, with: tx, derived: derived)
            profiles[tx.accountID] = profile
        }
        return hits
    }

    /// What `vigil feed seed` would load.
    public static func snapshot(_ data: ReferenceData) -> ReferenceSnapshot {
        var snapshot = ReferenceSnapshot(baseCurrency: data.baseCurrency)
        for a in data.accounts {
            snapshot.accounts[a.id] = AccountInfo(
                openedAt: RFC3339.parse(a.openedAt), homeCountry: a.homeCountry, riskTier: a.riskTier,
                timeZone: TimeZone(identifier: a.timezone))
        }
        for m in data.merchants { snapshot.merchants[m.id] = MerchantInfo(riskLevel: m.riskLevel, country: m.country) }
        for r in data.fxRates { snapshot.fxRates[r.currency] = DecimalValue(parsing: r.rateToBase) }
        for l in data.lists { snapshot.lists[l.name] = Set(l.values) }
        return snapshot
    }
}
