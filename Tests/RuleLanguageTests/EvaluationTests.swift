import Foundation
import Testing
import VigilCore

@testable import RuleLanguage

@Suite struct EvaluationTests {
    @Test func decimalMoneyIsExact() throws {
        let rs = try #require(
            Support.compile(
                """
                rule r {
                  when amount_base + 0.10 == 0.30 and amount_base * 3 == 0.60 and amount_base / 3 * 3 == 0.199998
                  severity low
                  score 1
                }
                """))
        #expect(rs.evaluate(Support.record(for: rs, amount: "0.20")).values == [.hit])
    }

    @Test func andOrAbsorbErrorsWhenTheOtherSideDecides() throws {
        // amount_base is not optional, so the checker accepts it; left unfilled it is an evaluation error.
        let rs = try #require(
            Support.compile(
                """
                rule and_rule {
                  when amount_base > 10 and channel == "atm"
                  severity low
                  score 1
                }
                rule or_rule {
                  when amount_base > 10 or channel == "atm"
                  severity low
                  score 1
                  on_error alert
                }
                rule healthy {
                  when channel == "atm"
                  severity low
                  score 1
                }
                """))
        var record = Support.record(for: rs, channel: .cardPresent)
        record[.amountBase] = .absent
        #expect(rs.evaluate(record).values == [.noHit, .error(.absentField(.amountBase), failedClosed: true), .noHit])
        record[.channel] = .string("atm")
        let outcomes = rs.evaluate(record).values
        #expect(outcomes == [.error(.absentField(.amountBase), failedClosed: false), .hit, .hit])
        #expect(outcomes[0].isHit == false)
        #expect(RuleOutcome.error(.overflow, failedClosed: true).isHit)
    }

    @Test func overflowAndDivisionByZeroAreErrorsNotTraps() throws {
        let rs = try #require(
            Support.compile(
                """
                rule overflow {
                  when amount_base * 1000000 * 1000000 > 1.00
                  severity low
                  score 1
                }
                rule divide {
                  when amount_base / (profile.count * 1) > 1.00
                  severity low
                  score 1
                }
                rule int_overflow {
                  when profile.count * 9223372036854775807 > 1
                  severity low
                  score 1
                }
                """))
        var record = Support.record(for: rs, amount: "5000000.00")
        record[.profileCount] = .int(0)
        #expect(rs.evaluate(record).values == [.error(.overflow, failedClosed: false), .error(.divisionByZero, failedClosed: false), .noHit])
        record[.profileCount] = .int(2)
        #expect(rs.evaluate(record).values[2] == .error(.overflow, failedClosed: false))
    }

    @Test func requireMakesARuleNotApplicable() throws {
        let rs = try #require(
            Support.compile(
                """
                rule r {
                  require country
                  when country == "DE"
                  severity low
                  score 1
                }
                """))
        var record = Support.record(for: rs)
        #expect(rs.evaluate(record).values == [.notApplicable])
        record[.country] = .string("DE")
        #expect(rs.evaluate(record).values == [.hit])
    }

    @Test func notOfAMissingValueIsRefusedAtLoad() {
        let codes = Support.diagnostics(
            """
            rule r {
              when not (profile.avg_amount > 10)
              severity low
              score 1
            }
            """
        ).map(\.code)
        #expect(codes == ["E0201"])
    }

    @Test func narrowingFollowsAndOrNot() {
        let ok = Support.diagnostics(
            """
            rule r {
              when not missing(country) and country == "DE" or missing(ip) or ip == "1.2.3.4"
              severity low
              score 1
            }
            """)
        #expect(ok.isEmpty)
        let bad = Support.diagnostics(
            """
            rule r {
              when present(country) or country == "DE"
              severity low
              score 1
            }
            """)
        #expect(bad.map(\.code) == ["E0201"])
    }

    @Test func reasonRendersValues() throws {
        let rs = try #require(
            Support.compile(
                """
                rule r {
                  when amount_base > 1.00
                  severity low
                  score 1
                  reason "paid {amount_base} {base_currency} on \\{card\\} {card_id}, country {country}"
                }
                """))
        let record = Support.record(for: rs, amount: "12.5")
        let rule = try #require(rs.rule(id: "r"))
        #expect(rs.renderReason(of: rule, record: record) == "paid 12.50 EUR on {card} card-1, country missing")
    }

    @Test func transactionFillsSlots() throws {
        let rs = try #require(Support.compile("rule r {\n when true\n severity low\n score 1\n}\n"))
        let record = Support.record(for: rs, at: 3600 * 5 + 30, amount: "125.40", device: "dev-9")
        #expect(record[.amount] == .decimal(DecimalValue(units: 125_400_000)))
        #expect(record[.currency] == .string("EUR"))
        #expect(record[.channel] == .string("card_not_present"))
        #expect(record[.deviceID] == .string("dev-9"))
        #expect(record[.merchantID] == .absent)
        let (hour, weekday) = EvaluationRecord.hourAndWeekday(Timestamp(secondsSinceEpoch: 0))
        #expect(hour == 0 && weekday == 4)  // 1970-01-01 was a Thursday
    }

    @Test func tableListsComeFromTheSnapshot() throws {
        let rs = try #require(
            Support.compile(
                """
                list blocked = table "blocked_merchants"
                rule r {
                  require merchant_id
                  when merchant_id in blocked
                  severity low
                  score 1
                }
                """))
        #expect(rs.tableLists == ["blocked_merchants"])
        let record = Support.record(for: rs, merchant: "m-1")
        #expect(rs.evaluate(record).values == [.error(.listUnavailable(slot: 0), failedClosed: false)])
        let lists = ListSnapshot(ruleset: rs, contents: ["blocked_merchants": ["m-1"]], version: "v1")
        #expect(rs.evaluate(record, lists: lists).values == [.hit])
    }

    @Test func versionIsAContentHash() throws {
        let text = "rule r {\n when amount_base > 1\n severity low\n score 1\n}\n"
        let a = try #require(Support.compile(text))
        let b = try #require(Support.compile(text))
        let c = try #require(Support.compile(text.replacingOccurrences(of: "> 1", with: "> 2")))
        #expect(a.version == b.version)
        #expect(a.version != c.version)
        #expect(a.version.hasPrefix("rs-") && a.version.count == 19)
    }

    @Test func changedWindowDefinitionWarns() throws {
        let v1 = try #require(
            Support.compile(
                """
                window w = count by account_id over 10m
                rule r {
                  when window.w > 3
                  severity low
                  score 1
                }
                """))
        let result = RulesetLoader.compile(
            sources: [
                SourceFile(
                    path: "test.rules",
                    text: """
                        window w = count by account_id over 1h
                        rule r {
                          when window.w > 3
                          severity low
                          score 1
                        }
                        """)
            ], previous: v1)
        #expect(result.diagnostics.map(\.code) == ["W0003"])
        #expect(result.ruleset != nil)
    }

    @Test func constantsAreFolded() throws {
        let rs = try #require(Support.compile("rule r {\n when amount_base > 2 * 50.00 + 1\n severity low\n score 1\n}\n"))
        let rule = try #require(rs.rule(id: "r"))
        #expect(Explain.text(rule.condition) == "(amount_base > ((2.00 * 50.00) + 1.00))")
        #expect(rs.evaluate(Support.record(for: rs, amount: "101.01")).values == [.hit])
        #expect(rs.evaluate(Support.record(for: rs, amount: "101.00")).values == [.noHit])
    }

    @Test func decimalArithmeticEdges() {
        let a = DecimalValue(parsing: "1234567.891234")
        #expect(a?.description == "1234567.891234")
        #expect(DecimalValue(parsing: "-0.5")?.multiplied(by: DecimalValue(units: 3_000_000)) == DecimalValue(units: -1_500_000))
        #expect(DecimalValue(units: .max).adding(DecimalValue(units: 1)) == nil)
        #expect(DecimalValue(units: .max).multiplied(by: DecimalValue(units: .max)) == nil)
        #expect(DecimalValue(units: .min).divided(by: DecimalValue(units: -1_000_000)) == nil)
        #expect(DecimalValue(units: 1).divided(by: .zero) == nil)
        #expect(DecimalValue(units: 10_000_000).divided(by: DecimalValue(units: 3_000_000))?.description == "3.333333")
        #expect(DecimalValue(minorUnits: 12_540, exponent: 2) == DecimalValue(units: 125_400_000))
    }
}

@Suite("Rule test coverage")
struct RuleCoverageTests {
    @Test("a rule is tested when a passing case expects it to hit; a failing case or a non-hit covers nothing")
    func untested() throws {
        let loaded = RulesetLoader.compile(sources: [
            SourceFile(
                path: "r.rules",
                text: """
                    rule big { when amount > 100.00
                      severity high
                      score 50
                      reason "big" }
                    rule huge { when amount > 1000.00
                      severity high
                      score 90
                      reason "huge" }
                    """)
        ])
        let ruleset = try #require(loaded.ruleset, "\(loaded.diagnostics)")
        func run(_ json: String) throws -> RuleTestRunner.CaseResult {
            let object = try #require(try JSONSerialization.jsonObject(with: Data(json.utf8)) as? [String: Any])
            return RuleTestRunner.run(ruleset: ruleset, case: object, file: "t.json", index: 0)
        }
        let hitsBig = try run(
            #"{"start": "2026-11-24T10:00:00Z", "defaults": {"account_id": "a", "currency": "EUR", "channel": "card_present"}, "transactions": [{"amount": "500.00", "hits": ["big"]}]}"#
        )
        #expect(hitsBig.passed)
        #expect(RuleTestRunner.untested(ruleset, results: [hitsBig]) == ["huge"])
        let wrong = try run(
            #"{"start": "2026-11-24T10:00:00Z", "defaults": {"account_id": "a", "currency": "EUR", "channel": "card_present"}, "transactions": [{"amount": "500.00", "hits": ["big", "huge"]}]}"#
        )
        #expect(!wrong.passed)
        #expect(RuleTestRunner.untested(ruleset, results: [wrong]) == ["big", "huge"])
    }

    @Test("the version diff shows removed and added lines with context, per file")
    func diff() {
        let old = ["a.rules": "one\ntwo\nthree\nfour\n", "gone.rules": "x\n"]
        let new = ["a.rules": "one\ntwo\n3\nfour\n", "new.rules": "y\n"]
        let text = TextDiff.render(old: old, new: new, oldLabel: "v1", newLabel: "v2")
        #expect(text.contains("--- v1/a.rules\n+++ v2/a.rules\n@@ line 1 @@\n one\n two\n-three\n+3\n four"))
        #expect(text.contains("+++ v2/gone.rules (absent)\n@@ line 1 @@\n-x"))
        #expect(text.contains("--- v1/new.rules (absent)"))
        #expect(TextDiff.render(old: old, new: old, oldLabel: "v1", newLabel: "v1") == "no difference")
    }
}
