import Foundation
import Testing
import VigilCore

@testable import RuleLanguage

/// Helpers shared by the rule-language tests.
enum Support {
    static let repoRoot = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent()
    static let rulesDirectory = repoRoot.appendingPathComponent("Rules").path

    /// Compiles one in-memory file; records an issue and returns nil on errors.
    static func compile(_ text: String, previous: CompiledRuleset? = nil, sourceLocation: Testing.SourceLocation = #_sourceLocation)
        -> CompiledRuleset?
    {
        let result = RulesetLoader.compile(sources: [SourceFile(path: "test.rules", text: text)], previous: previous)
        if result.ruleset == nil {
            let text = result.diagnostics.map { $0.rendered(sources: result.sources) }.joined()
            Issue.record(Comment(rawValue: "does not compile:\n\(text)"), sourceLocation: sourceLocation)
        }
        return result.ruleset
    }

    static func diagnostics(_ text: String) -> [Diagnostic] {
        RulesetLoader.compile(sources: [SourceFile(path: "test.rules", text: text)]).diagnostics
    }

    static let t0 = Timestamp(secondsSinceEpoch: 1_795_000_000)

    static func eur(_ text: String) -> Money {
        // Test inputs are literals known to be valid.
        Money(decimal: text, currency: Currency(code: "EUR")!)!
    }

    /// A record with the transaction fields filled and enrichment defaults.
    static func record(
        for ruleset: CompiledRuleset, at seconds: Int64 = 0, account: String = "acc-1", card: String? = "card-1",
        amount: String = "10.00", channel: Channel = .cardNotPresent, device: String? = nil, merchant: String? = nil
    ) -> EvaluationRecord {
        var r = EvaluationRecord(for: ruleset)
        let tx = Transaction(
            id: "t\(seconds)", timestamp: t0.adding(microseconds: seconds * 1_000_000), accountID: account,
            cardID: card, amount: eur(amount), merchantID: merchant, channel: channel, deviceID: device)
        r.setTransaction(tx)
        r[.amountBase] = r[.amount]
        r[.baseCurrency] = .string("EUR")
        r[.profileCount] = .int(0)
        return r
    }
}
