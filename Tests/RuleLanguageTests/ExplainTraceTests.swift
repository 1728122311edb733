import Testing
import VigilCore

@testable import RuleLanguage

/// An explain trace is planned once a rule and kept with the ruleset; each line's value is
/// still the node's own value on the record, as compiling that node alone gives it.
@Suite struct ExplainTraceTests {
    static let rules = """
        list risky_mcc = ["7995", "6051"]
        rule mixed {
          when (amount_base > 2 * 50.00 + 1 and channel == "atm") or present(device_id) or missing(merchant_id)
          severity low
          score 1
        }
        rule decimal_and_lists {
          when amount_base * 2 >= 100 and (merchant_id ?? "none") not in ["m-1"] and amount_base + 1 > 3
          severity low
          score 1
        }
        """

    /// The trace as it was defined before it was planned: every node compiled on its own.
    func reference(_ rule: CompiledRule, _ ruleset: CompiledRuleset, _ record: EvaluationRecord) -> [String] {
        let compiler = Compiler(
            staticLists: ruleset.lists.map { list in
                if case .table = list.source { return nil }
                return list.members
            })
        var lines: [String] = []
        func walk(_ t: TypedExpr, _ depth: Int) {
            if case .toDecimal(let inner) = t.kind { return walk(inner, depth) }
            lines.append("\(depth) \(Explain.text(t)) \(t.type) = \(compiler.compile(t)(record, .empty))")
            if case .present = t.kind { return }
            for child in t.children { walk(child, depth + 1) }
        }
        walk(rule.condition, 0)
        return lines
    }

    @Test("every line's value is its node's on each record, on the first trace and on the kept plan")
    func planMatchesNodes() throws {
        let ruleset = try #require(Support.compile(Self.rules))
        let records = [
            Support.record(for: ruleset, amount: "120.00", channel: .atm),
            Support.record(for: ruleset, amount: "10.00", device: "d-1", merchant: "m-1"),
            Support.record(for: ruleset, amount: "55.00", merchant: "m-2"),
        ]
        for rule in ruleset.rules {
            for record in records {
                let traced = Explain.trace(rule, in: ruleset, record: record, lists: .empty).map { "\($0.depth) \($0.text) \($0.type) = \($0.value)" }
                #expect(traced == reference(rule, ruleset, record), "\(rule.id)")
                #expect(traced.count > 3)
            }
        }
    }
}
