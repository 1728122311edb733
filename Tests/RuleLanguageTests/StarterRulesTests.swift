import Foundation
import Testing

@testable import RuleLanguage

/// The shipped ruleset in `Rules/` compiles cleanly and every rule test beside it passes.
@Suite struct StarterRulesTests {
    @Test func starterRulesCompileWithoutWarnings() throws {
        let result = RulesetLoader.load(paths: [Support.rulesDirectory])
        #expect(result.diagnostics.isEmpty, "\(result.diagnostics.map { $0.rendered(sources: result.sources) }.joined())")
        let ruleset = try #require(result.ruleset)
        let ids = Set(ruleset.rules.map(\.id))
        for expected in [
            "card_testing", "account_velocity_spike", "amount_far_above_average", "new_account_high_value",
            "impossible_travel", "structuring", "many_cards_one_device", "blocked_merchant",
            "high_risk_country", "unusual_hour",
        ] {
            #expect(ids.contains(expected), "missing starter rule \(expected)")
        }
    }

    @Test func starterRuleTestsPass() throws {
        let ruleset = try #require(RulesetLoader.load(paths: [Support.rulesDirectory]).ruleset)
        let files = RuleTestRunner.testFiles(in: [Support.rulesDirectory])
        #expect(files.count >= 4)
        let results = RuleTestRunner.run(ruleset: ruleset, files: files)
        #expect(!results.isEmpty)
        for r in results {
            #expect(r.passed, "\(r.file): \(r.name)\n\(r.failures.joined(separator: "\n"))")
        }
        // Every rule is expected to hit somewhere: no rule goes untested.
        var hit = Set<String>()
        for file in files {
            let text = (try? String(contentsOfFile: file, encoding: .utf8)) ?? ""
            for rule in ruleset.rules where text.contains("\"\(rule.id)\"") { hit.insert(rule.id) }
        }
        #expect(hit == Set(ruleset.rules.map(\.id)))
    }

    @Test func aBrokenExpectationFailsTheCase() throws {
        let ruleset = try #require(RulesetLoader.load(paths: [Support.rulesDirectory]).ruleset)
        let object: [String: Any] = [
            "name": "wrong", "start": "2026-11-24T10:00:00Z",
            "defaults": ["account_id": "a", "channel": "transfer", "currency": "EUR", "amount": "1.00"],
            "transactions": [["at": "+0m", "hits": ["structuring"]], ["at": "+1m", "ammount": "2.00"]],
        ]
        let result = RuleTestRunner.run(ruleset: ruleset, case: object, file: "inline", index: 0)
        #expect(result.failures.count == 2)
        #expect(result.failures[0].contains("missing structuring"))
        #expect(result.failures[1].contains("did you mean `amount`?"))
    }

    @Test func starterRulesAreFormatted() throws {
        for path in RulesetLoader.ruleFiles(in: [Support.rulesDirectory]) {
            let text = try String(contentsOfFile: path, encoding: .utf8)
            #expect(RuleFormatter.format(SourceFile(path: path, text: text)) == text, "\(path) is not in canonical format")
        }
    }
}

@Suite struct FormatterTests {
    @Test func formattingIsIdempotentAndKeepsMeaningAndComments() throws {
        let messy = """
            # header comment

            list   countries=["KP" ,"IR"]   # trailing
            window w = count   by card_id over 600s where channel=="atm"
            rule r{score 5  severity low
            # about the condition
            when (amount_base>1) and ((country ?? "") in countries or (window.w ?? 0) > 3) and not (amount_base - 1 - (2 - 1) > 0)
            reason "a \\{literal\\} and {amount_base}"
            }
            """
        let once = try #require(RuleFormatter.format(SourceFile(path: "m.rules", text: messy)))
        #expect(
            once == """
                # header comment

                list countries = ["KP", "IR"]  # trailing

                window w = count by card_id over 10m where channel == "atm"

                rule r {
                  # about the condition
                  when amount_base > 1
                    and ((country ?? "") in countries or (window.w ?? 0) > 3)
                    and not amount_base - 1 - (2 - 1) > 0
                  severity low
                  score 5
                  reason "a \\{literal\\} and {amount_base}"
                }

                """)
        #expect(RuleFormatter.format(SourceFile(path: "m.rules", text: once)) == once)
        let a = try #require(Support.compile(messy))
        let b = try #require(Support.compile(once))
        #expect(a.rules.map { Explain.text($0.condition) } == b.rules.map { Explain.text($0.condition) })
        #expect(a.windows.map(\.identity) == b.windows.map(\.identity))
    }

    @Test func unparsableInputIsNotFormatted() {
        #expect(RuleFormatter.format(SourceFile(path: "x.rules", text: "rule r { when ( }")) == nil)
    }
}
