import ArgumentParser
import Foundation
import RuleLanguage
import VigilCore

extension RulesCommand {
    struct Explain: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Show a rule as compiled and, given a transaction, the value of every sub-expression.",
            discussion: """
                The transaction file is a JSON object of fields by name (as in rule tests), plus optional
                "windows": {"name": value} and "lists": {"table_list": ["a"]}; relative times count from "start".
                """)

        @Argument(help: "The rule id.") var ruleID: String
        @Option(name: .long, help: "Rules files or directories.") var rules: [String] = ["Rules"]
        @Option(name: .long, help: "A JSON transaction with enrichment and window values.") var transaction: String?

        func run() async throws {
            let ruleset = try RulesCommand.loadOrReport(rules)
            guard let rule = ruleset.rule(id: ruleID) else {
                let ids = ruleset.rules.map(\.id)
                print("unknown rule `\(ruleID)`; rules: \(ids.joined(separator: ", "))")
                throw ExitCode(1)
            }
            print("rule \(rule.id)  (\(rule.range.file):\(rule.range.start.line))")
            if !rule.description.isEmpty { print("  description: \(rule.description)") }
            print(
                "  severity \(rule.severity.rawValue), score \(rule.score), action \(rule.action.rawValue), mode \(rule.mode.rawValue), on_error \(rule.onError.rawValue)"
            )
            print("  decision policy: \(Self.describe(ruleset.policy))")
            if !rule.tags.isEmpty { print("  tags: \(rule.tags.joined(separator: ", "))") }
            let required = rule.requiredFields.map(\.name) + rule.requiredWindows.map { "window." + ruleset.windows.name(of: $0) }
            if !required.isEmpty { print("  require: \(required.joined(separator: ", ")) (not applicable when missing)") }
            print("  condition: \(RuleLanguage.Explain.text(rule.condition))")
            print("  fields read: \(rule.fieldsRead.map { "\($0.name): \($0.type)" }.joined(separator: ", "))")
            for slot in rule.windowsUsed {
                if let w = ruleset.windows.first(where: { $0.slot == slot }) { print("  window \(w.name) = \(w.identity)  -> \(w.resultType)") }
            }
            for slot in rule.listsUsed {
                if let l = ruleset.lists.first(where: { $0.slot == slot }) { print("  list \(l.name): \(describe(l))") }
            }
            print("  estimated cost: \(rule.cost)")
            print("  reason: \(rule.reasonTemplate)")
            guard let transaction else { return }
            guard let data = FileManager.default.contents(atPath: transaction),
                var object = (try? JSONSerialization.jsonObject(with: data)) as? [String: Any]
            else {
                print("cannot read \(transaction) as a JSON object")
                throw ExitCode(1)
            }
            let windowValues = object.removeValue(forKey: "windows") as? [String: Any] ?? [:]
            let lists = RuleTestRunner.snapshot(ruleset, object.removeValue(forKey: "lists") as? [String: Any])
            let start = (object.removeValue(forKey: "start") as? String).flatMap { RFC3339.parse($0) } ?? Timestamp(secondsSinceEpoch: 0)
            var record = EvaluationRecord(for: ruleset)
            var problems = RecordBuilder(start: start).fill(&record, from: object)
            for (name, raw) in windowValues {
                guard let w = ruleset.window(named: name) else {
                    problems.append("unknown window `\(name)`")
                    continue
                }
                if let n = raw as? NSNumber, w.resultType.base == .int, let i = Int64(n.stringValue) {
                    record.windows[w.slot] = .int(i)
                } else if let d = DecimalValue(parsing: "\(raw)") {
                    record.windows[w.slot] = .decimal(d)
                } else {
                    problems.append("window `\(name)`: cannot read \(raw)")
                }
            }
            for p in problems { print("  warning: \(p)") }
            print("\nevaluation:")
            for line in RuleLanguage.Explain.trace(rule, in: ruleset, record: record, lists: lists) where !line.isConstant {
                let value =
                    if case .decimal(let d) = line.value, line.type.base == .money { d.formatted(fractionDigits: 2) } else { line.value.description }
                print("  " + String(repeating: "  ", count: line.depth) + "\(line.text)  =  \(value)")
            }
            let outcome = ruleset.evaluate(record, lists: lists).values[rule.index]
            switch outcome {
            case .hit: print("\nresult: HIT — \(ruleset.renderReason(of: rule, record: record, lists: lists))")
            case .noHit: print("\nresult: no hit (the condition is false)")
            case .notApplicable: print("\nresult: not applicable (a required value is missing)")
            case .error(let e, let closed):
                print("\nresult: evaluation error: \(e); \(closed ? "on_error alert: raised as a hit" : "on_error skip: no hit")")
            }
            // The whole ruleset's decision on this transaction (windows as given, no profile update).
            var outcomes = RuleOutcomes()
            ruleset.evaluate(record, lists: lists, into: &outcomes)
            let hits = ruleset.rules.filter { outcomes.values[$0.index].isHit }.map {
                RuleHitRecord(ruleID: $0.id, mode: $0.mode, severity: $0.severity, score: $0.score, reason: "", onError: false, action: $0.action)
            }
            let decision = ruleset.policy.decide(hits, ruleset: ruleset.version)
            print(
                "decision: \(decision.outcome.rawValue) (score \(decision.score); alert-mode rules hit: "
                    + "\(decision.rules.isEmpty ? "none" : decision.rules.joined(separator: ", ")))")
        }

        static func describe(_ policy: DecisionPolicy) -> String {
            var parts: [String] = []
            if let review = policy.reviewAtScore { parts.append("review at score >= \(review)") }
            if let block = policy.blockAtScore { parts.append("block at score >= \(block)") }
            return parts.isEmpty ? "rules' actions only (no score thresholds)" : parts.joined(separator: ", ")
        }

        func describe(_ l: ListSpec) -> String {
            switch l.source {
            case .inline: "inline, \(l.members.count) members"
            case .file(let p): "from \(p), \(l.members.count) members"
            case .table(let t): "from the lists table (`\(t)`) at run time"
            }
        }
    }
}

extension [WindowSpec] {
    func name(of slot: Int) -> String { first { $0.slot == slot }?.name ?? "#\(slot)" }
}
