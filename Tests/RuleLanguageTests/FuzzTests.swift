import Foundation
import Testing

@testable import RuleLanguage

/// Property: for any input, lexing, parsing, checking, compiling and formatting return
/// (diagnostics or a ruleset) without trapping, and each input finishes quickly.
@Suite struct FuzzTests {
    /// SplitMix64: a small seeded generator so a failure is reproducible from its seed.
    struct SplitMix: RandomNumberGenerator {
        var state: UInt64
        mutating func next() -> UInt64 {
            state &+= 0x9e37_79b9_7f4a_7c15
            var z = state
            z = (z ^ (z >> 30)) &* 0xbf58_476d_1ce4_e5b9
            z = (z ^ (z >> 27)) &* 0x94d0_49bb_1331_11eb
            return z ^ (z >> 31)
        }
    }

    static var corpus: [String] {
        var texts: [String] = []
        for path in RulesetLoader.ruleFiles(in: [Support.rulesDirectory, GoldenTests.root.path]) {
            if let data = FileManager.default.contents(atPath: path) { texts.append(String(decoding: data, as: UTF8.self)) }
        }
        return texts
    }

    static let alphabet = Array("abcdefghijklmnopqrstuvwxyz_0123456789 .,()[]{}\"\\#=<>!?+-*/%:\n\t&|^$é😀\u{0}".unicodeScalars)
    static let words = [
        "rule", "window", "list", "when", "and", "or", "not", "in", "by", "over", "where", "present(",
        "missing(", "??", "window.", "amount_base", "10m", "\"", "{", "}", "(", ")", "[", "]", "9999999999999999999999",
    ]

    /// Runs every phase on `text`; the test fails by trapping or by exceeding the time bound.
    static func exercise(_ text: String) {
        let started = ContinuousClock.now
        let source = SourceFile(path: "fuzz.rules", text: text)
        let result = RulesetLoader.compile(sources: [source])
        for d in result.diagnostics {
            _ = d.rendered(sources: result.sources)
            #expect(d.range.start.line >= 1)
        }
        if let ruleset = result.ruleset {
            var record = EvaluationRecord(for: ruleset)
            var windows = WindowState(ruleset: ruleset)
            record[.timestamp] = .timestamp(0)
            windows.observe(&record)
            _ = ruleset.evaluate(record)
        }
        if let formatted = RuleFormatter.format(source) {
            let again = RuleFormatter.format(SourceFile(path: "fuzz.rules", text: formatted))
            #expect(again == formatted, "fmt is not idempotent for:\n\(text)")
        }
        #expect(ContinuousClock.now - started < .seconds(2), "slow input:\n\(text.prefix(200))")
    }

    @Test func randomInputs() {
        var rng = SplitMix(state: 0x5eed_0001)
        for _ in 0..<1500 {
            var text = ""
            for _ in 0..<Int.random(in: 0...200, using: &rng) {
                if Bool.random(using: &rng) {
                    text += FuzzTests.words.randomElement(using: &rng) ?? ""
                    text += " "
                } else {
                    text.unicodeScalars.append(FuzzTests.alphabet.randomElement(using: &rng) ?? "a")
                }
            }
            FuzzTests.exercise(text)
        }
    }

    @Test func mutatedValidInputs() {
        var rng = SplitMix(state: 0x5eed_0002)
        let corpus = FuzzTests.corpus
        #expect(!corpus.isEmpty)
        for _ in 0..<1500 {
            guard var scalars = corpus.randomElement(using: &rng).map({ Array($0.unicodeScalars) }), !scalars.isEmpty else { continue }
            for _ in 0..<Int.random(in: 1...6, using: &rng) {
                let i = Int.random(in: 0..<max(1, scalars.count), using: &rng)
                switch Int.random(in: 0..<5, using: &rng) {
                case 0 where !scalars.isEmpty: scalars.remove(at: min(i, scalars.count - 1))
                case 1: scalars.insert(FuzzTests.alphabet.randomElement(using: &rng) ?? "a", at: min(i, scalars.count))
                case 2 where !scalars.isEmpty: scalars[min(i, scalars.count - 1)] = FuzzTests.alphabet.randomElement(using: &rng) ?? "a"
                case 3:
                    let j = min(scalars.count, i + Int.random(in: 0...40, using: &rng))
                    scalars.insert(contentsOf: scalars[i..<j], at: min(j, scalars.count))
                default: scalars = Array(scalars.prefix(i))
                }
            }
            var text = ""
            text.unicodeScalars.append(contentsOf: scalars)
            FuzzTests.exercise(text)
        }
    }

    @Test(arguments: [
        String(repeating: "(", count: 20_000),
        "rule r { when " + String(repeating: "not ", count: 20_000) + "true severity low score 1 }",
        "rule r { when " + String(repeating: "-", count: 20_000) + "1 > 0 severity low score 1 }",
        "rule r { when " + String(repeating: "amount_base + ", count: 20_000) + "1 > 0 severity low score 1 }",
        "rule r { when " + String(repeating: "f(", count: 20_000) + " severity low score 1 }",
        "rule r { when true " + String(repeating: "and true ", count: 20_000) + " severity low score 1 }",
        String(repeating: "\"", count: 10_001),
        String(repeating: "rule r {\n", count: 2_000),
        "rule r { reason \"" + String(repeating: "{", count: 5_000) + "\" }",
    ])
    func pathologicalInputs(_ text: String) {
        FuzzTests.exercise(text)
    }
}
