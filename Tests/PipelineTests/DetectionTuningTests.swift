import FeedGenerator
import Foundation
import RuleLanguage
import Testing
import VigilTesting

/// The tuning set: the only feeds the starter rules were adjusted against (docs/detection.md).
/// Seeds 101 and 102 of the `bank` mix. Held-out figures are in HeldOutDetectionTests.
@Suite("The starter rules on the tuning set (bank mix, seeds 101 and 102)")
struct DetectionTuningTests {
    static let tuningSeeds: [UInt64] = [101, 102]

    /// The original world at seed 3 (DetectionQualityTests' feed) was what the first
    /// starter rules were written against; it stays in the tuning set.
    @Test("the original world (default mix, seed 3), measured offline")
    func originalWorld() throws {
        let loaded = RulesetLoader.load(paths: [TestDatabase.repositoryRoot.appendingPathComponent("Rules").path])
        let ruleset = try #require(loaded.ruleset, "the starter rules must compile")
        let evaluation = OfflineEvaluation(ruleset: ruleset, configuration: GeneratorConfiguration(count: 40_000, seed: 3))
        print("tuning set, default seed 3:\n\(evaluation.score.text)\n\(evaluation.ruleReport)")
        #expect(evaluation.score.cases.rate >= 0.95)  // 61/64 (95.3%) with the entity histories
        #expect(evaluation.score.legitimate.rate <= 0.005)
    }

    @Test("the tuning set meets the issue's targets, measured offline")
    func tuningSet() throws {
        let loaded = RulesetLoader.load(paths: [TestDatabase.repositoryRoot.appendingPathComponent("Rules").path])
        let ruleset = try #require(loaded.ruleset, "the starter rules must compile")
        for seed in Self.tuningSeeds {
            let evaluation = OfflineEvaluation(
                ruleset: ruleset,
                configuration: GeneratorConfiguration(
                    count: 60_000, seed: seed, population: .bank))
            let score = evaluation.score
            print("tuning set, bank seed \(seed):\n\(score.text)\n\(evaluation.ruleReport)")
            #expect(score.cases.total >= 80)
            // The 95% (98.8% and 96.2% with the entity histories; 97.2% and 97.0% on the
            // 200,000-transaction feeds of the same seeds that the rules were tuned on), see docs/detection.md.
            #expect(score.cases.rate >= 0.95, "seed \(seed): caught \(score.cases.hits) of \(score.cases.total)")
            #expect(score.legitimate.rate <= 0.005, "seed \(seed): flagged \(score.legitimate.hits) of \(score.legitimate.total)")
            for (population, tally) in score.byPopulation {
                #expect(tally.rate <= 0.02, "seed \(seed): \(population) flagged \(tally.hits) of \(tally.total)")
            }
        }
    }
}
