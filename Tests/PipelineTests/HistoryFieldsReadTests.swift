import Detection
import FeedGenerator
import Foundation
import RuleLanguage
import Testing
import VigilCore
import VigilTesting

/// `detect` fills only the history fields the ruleset reads (`CompiledRuleset.fieldsRead`):
/// it must decide exactly as with every field filled, and an alert's evidence must still
/// show every history value.
@Suite("History fields the rules do not read are left out, without changing a decision")
struct HistoryFieldsReadTests {
    @Test(
        "the starter rules over 6,000 generated bank transactions: the same hits with only the fields read as with all; evidence shows every history")
    func sameDecisions() throws {
        let loaded = RulesetLoader.load(paths: [TestDatabase.repositoryRoot.appendingPathComponent("Rules").path])
        let ruleset = try #require(loaded.ruleset, "\(loaded.diagnostics)")
        // The starter rules read some history fields and not others, so both paths are exercised.
        #expect(ruleset.fieldsRead.contains(.deviceFirstSeen))
        #expect(!ruleset.fieldsRead.contains(.merchantHourlyRate))

        let generator = FeedGenerator(configuration: GeneratorConfiguration(count: 6_000, seed: 29, population: .bank))
        let reference = OfflineEvaluation.snapshot(generator.referenceData)
        let lists = reference.listSnapshot(for: ruleset)

        // Every field filled: the offline loop of the tuning harness.
        var windows = WindowState(ruleset: ruleset)
        var profiles: [String: AccountProfile] = [:]
        let allHistory = SharedHistory()
        var record = EvaluationRecord(for: ruleset)
        var outcomes = RuleOutcomes()

        // Only the fields read: the pipeline's `detect`, one partition.
        var detector = Detector()
        var memory = PartitionMemory(specs: ruleset.windows.filter { $0.key == .accountID })
        let context = DetectionContext(
            ruleset: ruleset, shared: SharedWindows(specs: ruleset.windows.filter { $0.key != .accountID }), history: SharedHistory(),
            reference: reference, allowedLatenessMicroseconds: Int64.max / 2)

        var alerts = 0
        for generated in generator {
            let tx = generated.transaction
            var profile = profiles[tx.accountID] ?? AccountProfile()
            let derived = Enricher.fill(&record, transaction: tx, reference: reference, profile: profile)
            record[.isLate] = .bool(false)
            Enricher.fillHistory(&record, transaction: tx, amountBase: derived.amountBase, history: allHistory, update: true)
            windows.observe(&record, lists: lists)
            ruleset.evaluate(record, lists: lists, into: &outcomes)
            let expected = ruleset.rules.filter { outcomes.values[$0.index].isHit }.map(\.id)
            Enricher.update(&profile, with: tx, derived: derived)
            profiles[tx.accountID] = profile

            let decision = detector.detect(tx, memory: &memory, context: context, late: false)
            #expect(decision.hits.map(\.ruleID) == expected, "transaction \(tx.id)")
            guard decision.alert != nil else { continue }
            alerts += 1
            let evidence = try #require(decision.evidenceJSON)
            // Counts and reversals are present whether or not the entity was seen before;
            // the starter rules read neither the merchant's nor any hourly rate.
            var shown = [Field.cardCount, .cardReversals, .deviceCount, .merchantCount, .merchantReversals]
            if tx.merchantID != nil { shown.append(.merchantHourlyRate) }
            if tx.cardID != nil { shown.append(.cardHourlyRate) }
            for field in shown {
                #expect(evidence.contains("\"\(field.name)\":"), "\(field.name) missing from the evidence of \(tx.id)")
            }
        }
        #expect(alerts > 0, "no alert: the evidence was not checked")
    }

    @Test("fieldsRead holds what conditions, reasons, requires and windows read, and nothing else")
    func fieldsReadOfARuleset() throws {
        let text = """
            window spend_per_device_1h = sum amount_base by device_id over 1h where merchant.count >= 1

            rule r {
              require card_id
              when card.count == 0 and (window.spend_per_device_1h ?? 0.00) > 100.00
              severity low
              score 10
              reason "{device.first_seen}"
            }
            """
        let result = RulesetLoader.compile(sources: [SourceFile(path: "f.rules", text: text)])
        let ruleset = try #require(result.ruleset, "\(result.diagnostics)")
        for field in [Field.cardID, .cardCount, .deviceFirstSeen, .merchantCount, .amountBase, .deviceID] {
            #expect(ruleset.fieldsRead.contains(field), "\(field.name)")
        }
        for field in [Field.cardHourlyRate, .merchantHourlyRate, .deviceCount, .cardAvgAmount, .amount, .profileCount] {
            #expect(!ruleset.fieldsRead.contains(field), "\(field.name)")
        }
    }
}
