import Benchmark
import Foundation
import RuleLanguage
import VigilCore

/// Evaluations per second of compiled rulesets on one core, with window values already
/// in the record (the pipeline computes them in `WindowState.observe` first; that cost is
/// measured separately by "window observe").
let benchmarks: @Sendable () -> Void = {
    Benchmark.defaultConfiguration = .init(
        metrics: [.throughput, .wallClock, .mallocCountTotal, .instructions],
        scalingFactor: .kilo,
        maxDuration: .seconds(3),
        maxIterations: 1_000_000
    )

    let rulesDirectory = URL(fileURLWithPath: #filePath)
        .deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent()
        .deletingLastPathComponent().appendingPathComponent("Rules").path

    guard let starter = RulesetLoader.load(paths: [rulesDirectory]).ruleset else {
        print("Rules/ does not compile; run `vigil rules check Rules`")
        return
    }

    Benchmark("starter ruleset evaluate (\(starter.rules.count) rules, windows precomputed)") { benchmark in
        let fixture = Fixture(ruleset: starter)
        var outcomes = RuleOutcomes()
        benchmark.startMeasurement()
        for i in benchmark.scaledIterations {
            starter.evaluate(fixture.records[i & Fixture.mask], lists: fixture.lists, into: &outcomes)
        }
        benchmark.stopMeasurement()
        blackHole(outcomes)
    }

    Benchmark("starter windows observe (\(starter.windows.count) windows)") { benchmark in
        let fixture = Fixture(ruleset: starter)
        var state = WindowState(ruleset: starter)
        var record = fixture.records[0]
        benchmark.startMeasurement()
        for i in benchmark.scaledIterations {
            record = fixture.records[i & Fixture.mask]
            record[.timestamp] = .timestamp(Int64(i) &* 1_000_000)
            state.observe(&record, lists: fixture.lists)
        }
        benchmark.stopMeasurement()
        blackHole(record)
    }

    // The index against the straightforward loop over every rule, on the same rulesets and
    // records; every benchmark evaluates 1,000 records per iteration, so their figures compare.
    for count in [10, 100, 1_000, 10_000] {
        let source = SourceFile(path: "generated.rules", text: Generated.rules(count))
        guard let ruleset = RulesetLoader.compile(sources: [source]).ruleset else {
            print("generated ruleset of \(count) does not compile")
            continue
        }
        evaluation("generated", count, ruleset) { Fixture(ruleset: ruleset).records }
    }
    for count in [10, 100, 1_000, 10_000] {
        let source = SourceFile(path: "segmented.rules", text: Segmented.rules(count))
        guard let ruleset = RulesetLoader.compile(sources: [source]).ruleset else {
            print("segmented ruleset of \(count) does not compile")
            continue
        }
        evaluation("segmented", count, ruleset) { Segmented.records(for: ruleset, lists: .empty) }
    }
}

/// Registers the indexed and the one-by-one evaluation of `ruleset` on the records `make` builds.
func evaluation(_ name: String, _ count: Int, _ ruleset: CompiledRuleset, _ make: @escaping @Sendable () -> [EvaluationRecord]) {
    let lists = ListSnapshot(ruleset: ruleset, contents: ["sanctioned_countries": ["RU", "BY"], "blocked_ips": ["203.0.113.9"]], version: "bench")
    Benchmark("\(name) ruleset evaluate (\(count) rules)") { benchmark in
        let records = make()
        var outcomes = RuleOutcomes()
        benchmark.startMeasurement()
        for i in benchmark.scaledIterations {
            ruleset.evaluate(records[i & Fixture.mask], lists: lists, into: &outcomes)
        }
        benchmark.stopMeasurement()
        blackHole(outcomes)
    }
    Benchmark("\(name) ruleset each rule (\(count) rules)") { benchmark in
        let records = make()
        var outcomes = RuleOutcomes()
        benchmark.startMeasurement()
        for i in benchmark.scaledIterations {
            ruleset.evaluateEachRule(records[i & Fixture.mask], lists: lists, into: &outcomes)
        }
        benchmark.stopMeasurement()
        blackHole(outcomes)
    }
}
