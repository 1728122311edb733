import Foundation
import RuleLanguage
import Testing

/// Golden cases, one folder per case under `testdata/` (as cel-go's policy/testdata):
/// the folder's `*.rules` files, `expected.txt` with the rendered diagnostics, and
/// optional `*.test.json` rule tests that must all pass. `UPDATE_GOLDEN=1` rewrites them.
@Suite struct GoldenTests {
    static let root = URL(fileURLWithPath: #filePath).deletingLastPathComponent().appendingPathComponent("testdata")

    static var cases: [String] {
        ((try? FileManager.default.contentsOfDirectory(atPath: root.path)) ?? []).sorted()
    }

    static func render(_ folder: String) -> (String, RulesetLoader.Result) {
        let dir = root.appendingPathComponent(folder).path
        let result = RulesetLoader.load(paths: [dir])
        var text = result.diagnostics.map { $0.rendered(sources: result.sources) }.joined(separator: "\n")
        let errors = result.diagnostics.filter { $0.severity == .error }.count
        text += "\(errors) error(s), \(result.diagnostics.count - errors) warning(s)\n"
        return (text.replacingOccurrences(of: dir + "/", with: ""), result)
    }

    @Test("golden case", arguments: cases)
    func golden(_ folder: String) throws {
        let (actual, result) = GoldenTests.render(folder)
        let expectedURL = GoldenTests.root.appendingPathComponent(folder).appendingPathComponent("expected.txt")
        if ProcessInfo.processInfo.environment["UPDATE_GOLDEN"] != nil {
            try actual.write(to: expectedURL, atomically: true, encoding: .utf8)
        }
        let expected = try String(contentsOf: expectedURL, encoding: .utf8)
        #expect(actual == expected, "diagnostics differ for \(folder)")
        let testFiles = RuleTestRunner.testFiles(in: [GoldenTests.root.appendingPathComponent(folder).path])
        if !testFiles.isEmpty {
            let ruleset = try #require(result.ruleset)
            for r in RuleTestRunner.run(ruleset: ruleset, files: testFiles) {
                #expect(r.passed, "\(r.name): \(r.failures.joined(separator: "\n"))")
            }
        }
    }

    /// Every diagnostic code except the ones that need a file system failure or a previous
    /// ruleset (tested in their own tests) appears in some golden case.
    @Test func everyDiagnosticHasAGoldenCase() throws {
        var seen = Set<String>()
        for folder in GoldenTests.cases { seen.formUnion(GoldenTests.render(folder).1.diagnostics.map(\.code)) }
        let exempt: Set<String> = [DiagnosticCode.ioError.rawValue, DiagnosticCode.windowChanged.rawValue]
        let missing = DiagnosticCode.allCases.map(\.rawValue).filter { !seen.contains($0) && !exempt.contains($0) }
        #expect(missing.isEmpty, "no golden case for \(missing)")
    }

    @Test func fiveMistakesAreAllReported() {
        let result = GoldenTests.render("five_mistakes").1
        let errors = result.diagnostics.filter { $0.severity == .error }
        #expect(Set(errors.map(\.code)) == ["E0100", "E0201", "E0300", "E0102", "E0002"])
        #expect(errors.allSatisfy { $0.range.start.line > 0 && $0.range.start.column > 0 })
    }
}
