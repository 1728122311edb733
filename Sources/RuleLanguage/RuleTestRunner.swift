import Foundation
import VigilCore

/// Runs the rule tests that live beside the rules (`*.test.json`).
///
/// A test file holds `{"tests": [case, ...]}` or a single case. A case:
/// ```json
/// {"name": "...", "start": "2026-11-24T10:00:00Z", "rules": ["card_testing"],
///  "defaults": {"account_id": "acc-1", "currency": "EUR", "channel": "card_not_present"},
///  "lists": {"sanctioned_countries": ["RU"]},
///  "transactions": [{"at": "+1m", "amount": "1.00", "hits": []}, ...]}
/// ```
/// Each transaction is `defaults` overlaid with its own fields; the runner maintains the
/// windows itself (a fresh `WindowState` per case, transactions observed in order) and
/// compares the rules that hit with `hits`, exactly, among the rules in scope (`rules`,
/// or every rule). Fail-closed errors count as hits; a rule that errors fails the case
/// unless the transaction lists it in `errors` (to test `on_error` policies).
public enum RuleTestRunner {
    /// The outcome of one test case.
    public struct CaseResult: Sendable {
        /// The test file.
        public var file: String
        /// The case's name.
        public var name: String
        /// Transactions replayed.
        public var steps: Int
        /// One line per mismatch or problem; empty when the case passed.
        public var failures: [String]
        /// The rules some transaction of the case expects to hit: what the case tests.
        public var covered: Set<String> = []
        /// Whether the case passed.
        public var passed: Bool { failures.isEmpty }
    }

    /// The rules no passing case expects to hit, in the ruleset's order: rules with no
    /// test (`vigil rules test` lists them; `--require-tests` refuses such a ruleset).
    public static func untested(_ ruleset: CompiledRuleset, results: [CaseResult]) -> [String] {
        let covered = results.filter(\.passed).reduce(into: Set<String>()) { $0.formUnion($1.covered) }
        return ruleset.rules.map(\.id).filter { !covered.contains($0) }
    }

    /// Test files under the given paths (files or directories, recursively), sorted.
    public static func testFiles(in paths: [String]) -> [String] {
        var files: [String] = []
        for path in paths {
            var isDir: ObjCBool = false
            guard FileManager.default.fileExists(atPath: path, isDirectory: &isDir) else { continue }
            if isDir.boolValue {
                let items =
                    FileManager.default.enumerator(atPath: URL(fileURLWithPath: path).resolvingSymlinksInPath().path)?.compactMap { $0 as? String }
                    ?? []
                files += items.filter { $0.hasSuffix(".test.json") }.map { URL(fileURLWithPath: path).appendingPathComponent($0).path }
            } else if path.hasSuffix(".test.json") {
                files.append(path)
            }
        }
        return files.sorted()
    }

    /// Runs every case of every file against `ruleset`.
    public static func run(ruleset: CompiledRuleset, files: [String]) -> [CaseResult] {
        files.flatMap { file -> [CaseResult] in
            guard let data = FileManager.default.contents(atPath: file),
                let json = try? JSONSerialization.jsonObject(with: data)
            else {
                return [CaseResult(file: file, name: "(file)", steps: 0, failures: ["cannot read the file as JSON"])]
            }
            let cases: [Any] = (json as? [String: Any])?["tests"] as? [Any] ?? [json]
            return cases.enumerated().map { i, c in
                guard let object = c as? [String: Any] else {
                    return CaseResult(file: file, name: "#\(i + 1)", steps: 0, failures: ["a test case must be a JSON object"])
                }
                return run(ruleset: ruleset, case: object, file: file, index: i)
            }
        }
    }

    /// Runs one case given as a JSON object.
    public static func run(ruleset: CompiledRuleset, case object: [String: Any], file: String, index: Int) -> CaseResult {
        let name = object["name"] as? String ?? "#\(index + 1)"
        var result = CaseResult(file: file, name: name, steps: 0, failures: [])
        guard let startText = object["start"] as? String, let start = RFC3339.parse(startText) else {
            result.failures.append("`start` must be an RFC 3339 time, e.g. \"2026-11-24T10:00:00Z\"")
            return result
        }
        var scope = Set(ruleset.rules.map(\.id))
        if let only = object["rules"] as? [String] {
            for id in only where ruleset.rule(id: id) == nil {
                result.failures.append("unknown rule `\(id)` in `rules`")
            }
            scope = Set(only)
        }
        let lists = snapshot(ruleset, object["lists"] as? [String: Any])
        let defaults = object["defaults"] as? [String: Any] ?? [:]
        let builder = RecordBuilder(start: start)
        var windows = WindowState(ruleset: ruleset)
        var outcomes = RuleOutcomes()
        let steps = object["transactions"] as? [[String: Any]] ?? []
        if steps.isEmpty { result.failures.append("the case has no `transactions`") }
        for (n, step) in steps.enumerated() {
            var fields = defaults.merging(step) { _, new in new }
            let expected = Set(fields.removeValue(forKey: "hits") as? [String] ?? [])
            result.covered.formUnion(expected.intersection(scope))
            let expectedErrors = Set(fields.removeValue(forKey: "errors") as? [String] ?? [])
            let expectedDecision = fields.removeValue(forKey: "decision") as? String
            let label = "transaction \(n + 1)" + ((step["at"] as? String).map { " (at \($0))" } ?? "")
            if fields["id"] == nil { fields["id"] = "t\(n + 1)" }
            if fields["at"] == nil && fields["timestamp"] == nil { fields["at"] = "+0s" }
            var record = EvaluationRecord(for: ruleset)
            for problem in builder.fill(&record, from: fields) { result.failures.append("\(label): \(problem)") }
            for id in expected where ruleset.rule(id: id) == nil { result.failures.append("\(label): unknown rule `\(id)` in `hits`") }
            windows.observe(&record, lists: lists)
            ruleset.evaluate(record, lists: lists, into: &outcomes)
            var actual = Set<String>()
            for rule in ruleset.rules where scope.contains(rule.id) {
                let outcome = outcomes.values[rule.index]
                if outcome.isHit { actual.insert(rule.id) }
                if case .error(let e, let closed) = outcome, !expectedErrors.contains(rule.id) {
                    result.failures.append(
                        "\(label): rule `\(rule.id)` failed to evaluate: \(e)\(closed ? " (on_error alert: counted as a hit)" : "")")
                }
            }
            for id in expectedErrors.sorted() {
                if let rule = ruleset.rule(id: id), case .error = outcomes.values[rule.index] { continue }
                result.failures.append("\(label): expected rule `\(id)` to fail to evaluate, but it did not")
            }
            let missing = expected.intersection(scope).subtracting(actual).sorted()
            let unexpected = actual.subtracting(expected).sorted()
            if !missing.isEmpty || !unexpected.isEmpty {
                var line = "\(label): expected hits \(format(expected.intersection(scope))), got \(format(actual))"
                if !missing.isEmpty { line += "; missing \(missing.joined(separator: ", "))" }
                if !unexpected.isEmpty { line += "; unexpected \(unexpected.joined(separator: ", "))" }
                let windowValues = ruleset.windows.map { "\($0.name)=\(record.window($0.slot))" }.joined(separator: " ")
                if !windowValues.isEmpty { line += "\n      windows: \(windowValues)" }
                result.failures.append(line)
            }
            if let expectedDecision {
                let problem = checkDecision(expectedDecision, ruleset: ruleset, outcomes: outcomes, scope: scope)
                if let problem { result.failures.append("\(label): \(problem)") }
            }
            result.steps += 1
        }
        return result
    }

    /// `"decision": "block"` in a step: what the policy makes of the hits of the rules in
    /// scope; nil when it is what the test expects.
    static func checkDecision(_ expected: String, ruleset: CompiledRuleset, outcomes: RuleOutcomes, scope: Set<String>) -> String? {
        guard let outcome = DecisionOutcome(rawValue: expected) else {
            return "`decision` must be one of \(DecisionOutcome.names), not \"\(expected)\""
        }
        let hits = ruleset.rules.filter { scope.contains($0.id) && outcomes.values[$0.index].isHit }.map {
            RuleHitRecord(ruleID: $0.id, mode: $0.mode, severity: $0.severity, score: $0.score, reason: "", onError: false, action: $0.action)
        }
        let decided = ruleset.policy.decide(hits, ruleset: ruleset.version)
        guard decided.outcome != outcome else { return nil }
        return "expected decision \(outcome.rawValue), got \(decided.outcome.rawValue) (score \(decided.score), rules \(format(Set(decided.rules))))"
    }

    static func format(_ ids: Set<String>) -> String {
        ids.isEmpty ? "[]" : "[" + ids.sorted().joined(separator: ", ") + "]"
    }

    /// Contents for the ruleset's table lists from a test's `lists` object.
    public static func snapshot(_ ruleset: CompiledRuleset, _ object: [String: Any]?) -> ListSnapshot {
        var contents: [String: Set<String>] = [:]
        for (name, members) in object ?? [:] {
            contents[name] = Set(members as? [String] ?? [])
        }
        return ListSnapshot(ruleset: ruleset, contents: contents, version: "test")
    }
}
