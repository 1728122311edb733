import FeedGenerator
import RuleLanguage
import Testing
import VigilTesting

@Suite("The starter rules on a generated, labeled feed")
struct DetectionQualityTests {
    @Test("catch at least 95% of labeled fraud cases and flag at most 0.5% of legitimate transactions")
    func catchRate() async throws {
        let rulesPath = TestDatabase.repositoryRoot.appendingPathComponent("Rules").path
        let loaded = RulesetLoader.load(paths: [rulesPath])
        let ruleset = try #require(loaded.ruleset, "the starter rules must compile")
        // Seed 3 of the original world (the feed the first rules were written against).
        let score = try await scoreThroughPipeline(GeneratorConfiguration(count: 40_000, seed: 3), ruleset: ruleset)
        let cases = score.cases
        let legitimate = score.legitimate
        print(
            "starter rules on 40,000 generated transactions: caught \(cases.hits)/\(cases.total) cases, flagged \(legitimate.hits)/\(legitimate.total) legitimate"
        )
        #expect(cases.total >= 40)
        // 61/64 (95.3%) and 79/39,712 (0.20%) with the card, device and merchant histories.
        #expect(cases.rate >= 0.95, "caught \(cases.hits) of \(cases.total) labeled cases")
        #expect(legitimate.rate <= 0.005, "flagged \(legitimate.hits) of \(legitimate.total) legitimate transactions")
    }
}
