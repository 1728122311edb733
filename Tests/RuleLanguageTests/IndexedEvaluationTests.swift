import Testing
import VigilCore

@testable import RuleLanguage

/// The indexed evaluator (`evaluate`) against the straightforward one (`evaluateEachRule`).
@Suite struct IndexedEvaluationTests {
    /// What a caller derives from outcomes: the hits (as the detector records them), the
    /// errors and the decision.
    static func summary(_ rs: CompiledRuleset, _ outcomes: RuleOutcomes) -> (hits: [RuleHitRecord], errors: [String], decision: TransactionDecision) {
        var hits: [RuleHitRecord] = []
        var errors: [String] = []
        for rule in rs.rules {
            let outcome = outcomes.values[rule.index]
            if case .error(let e, _) = outcome { errors.append("\(rule.id): \(e)") }
            guard outcome.isHit else { continue }
            hits.append(
                RuleHitRecord(
                    ruleID: rule.id, mode: rule.mode, severity: rule.severity, score: rule.score, reason: "", onError: false,
                    action: rule.action))
        }
        return (hits, errors, rs.policy.decide(hits, ruleset: rs.version))
    }

    @Test(arguments: [1 as UInt64, 2, 3, 4, 5, 6, 7, 8])
    func agreesWithTheStraightforwardEvaluator(seed: UInt64) throws {
        var gen = RandomRuleset(rng: FuzzTests.SplitMix(state: seed &* 0x9e37_79b9))
        let ruleCount = [12, 60, 250][Int(seed % 3)]
        let text = gen.rules(ruleCount)
        let rs = try #require(Support.compile(text))
        let loaded = ListSnapshot(ruleset: rs, contents: ["blocked_ips": ["203.0.113.9"]], version: "1")
        // One buffer reused across records, as a worker does: stale outcomes must not leak.
        var indexed = RuleOutcomes()
        var straight = RuleOutcomes()
        var hits = 0
        var errors = 0
        var notApplicable = 0
        for i in 0..<400 {
            let record = gen.record(for: rs)
            let lists = i % 5 == 0 ? ListSnapshot.empty : loaded
            rs.evaluate(record, lists: lists, into: &indexed)
            rs.evaluateEachRule(record, lists: lists, into: &straight)
            guard indexed.values == straight.values else {
                let differing = rs.rules.filter { indexed.values[$0.index] != straight.values[$0.index] }.prefix(3)
                for rule in differing {
                    Issue.record(
                        "seed \(seed) record \(i) rule \(rule.id) `\(Explain.text(rule.condition))`: indexed \(indexed.values[rule.index]), straightforward \(straight.values[rule.index])"
                    )
                }
                return
            }
            #expect(indexed.decided == straight.decided)
            #expect(indexed.decided == rs.rules.indices.filter { indexed.values[$0] != .noHit })
            let a = Self.summary(rs, indexed)
            let b = Self.summary(rs, straight)
            #expect(a.hits == b.hits)
            #expect(a.errors == b.errors)
            #expect(a.decision == b.decision)
            hits += a.hits.count
            errors += a.errors.count
            notApplicable += indexed.values.filter { $0 == .notApplicable }.count
        }
        // The generated cases exercise every kind of outcome, or the comparison proves little.
        #expect(hits > 0)
        #expect(errors > 0)
        #expect(notApplicable > 0)
    }

    @Test func nearCopiesAreIndexedNotRunOneByOne() throws {
        var text = ""
        let countries = ["DE", "FR", "NL", "ES", "IT", "PL", "SE", "AT"]
        for (i, country) in countries.enumerated() {
            for step in 0..<10 {
                text += """
                    rule r_\(country)_\(step) {
                      when (country ?? "") == "\(country)" and amount_base > \(100 * step + i).00
                      severity low
                      score 1
                    }

                    """
            }
        }
        let rs = try #require(Support.compile(text))
        let root = try #require(rs.index.nodes.first)
        // One dispatch on country at the root, one threshold group per country below it.
        #expect(root.always.isEmpty)
        #expect(root.dispatches.count == 1)
        #expect(root.dispatches.first?.buckets.count == countries.count)
        #expect(rs.index.nodes.dropFirst().allSatisfy { $0.thresholds.count == 1 && $0.always.isEmpty })

        var record = Support.record(for: rs, amount: "250.00")
        record[.country] = .string("FR")
        let outcomes = rs.evaluate(record)
        #expect(outcomes.decided.map { rs.rules[$0].id } == ["r_FR_0", "r_FR_1", "r_FR_2"])
        record[.country] = .absent
        #expect(rs.evaluate(record).decided.isEmpty)
    }

    @Test func identicalConditionsRunOnceButConcludePerRule() throws {
        let rs = try #require(
            Support.compile(
                """
                rule open {
                  when amount_base / (profile.avg_amount ?? 0.00) > 2
                  severity low
                  score 1
                }
                rule closed {
                  when amount_base / (profile.avg_amount ?? 0.00) > 2
                  severity low
                  score 1
                  on_error alert
                }
                """))
        #expect(rs.index.sharedConditions == 1)
        var record = Support.record(for: rs, amount: "100.00")
        #expect(rs.evaluate(record).values == [.error(.divisionByZero, failedClosed: false), .error(.divisionByZero, failedClosed: true)])
        record[.profileAvgAmount] = .decimal(DecimalValue(units: 10_000_000))
        #expect(rs.evaluate(record).values == [.hit, .hit])
    }

    @Test func aKeyOfTheWrongKindRulesNothingOut() throws {
        var text = ""
        for (i, country) in ["DE", "FR", "NL", "ES", "IT", "PL"].enumerated() {
            text += "rule r\(i) {\n  require country\n  when country == \"\(country)\"\n  severity low\n  score 1\n}\n"
        }
        let rs = try #require(Support.compile(text))
        #expect(rs.index.nodes.first?.dispatches.count == 1)
        var record = Support.record(for: rs)
        // A filling bug: the evaluators must both report it, not treat the rules as false.
        record[.country] = .int(1)
        var straight = RuleOutcomes()
        rs.evaluateEachRule(record, lists: .empty, into: &straight)
        #expect(straight.values.allSatisfy { $0 == .error(.typeMismatch, failedClosed: false) })
        #expect(rs.evaluate(record).values == straight.values)
        record[.country] = .absent
        #expect(rs.evaluate(record).values.allSatisfy { $0 == .notApplicable })
    }
}
