import ArgumentParser
import Foundation
import RuleLanguage

/// `vigil rules`: the fraud analysts' authoring tools.
struct RulesCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "rules",
        abstract: "Check, test, explain, format and backtest detection rules; propose and approve them (four-eyes).",
        subcommands: [
            Check.self, Test.self, Explain.self, Fmt.self, BacktestCommand.self, Compare.self, History.self, Diff.self,
            Propose.self, Proposals.self, Approve.self, Reject.self,
        ]
    )

    /// Loads rules and prints diagnostics to standard error (text) for commands other than `check`.
    static func loadOrReport(_ paths: [String]) throws -> CompiledRuleset {
        let result = RulesetLoader.load(paths: paths)
        let errors = result.diagnostics.filter { $0.severity == .error }
        if let ruleset = result.ruleset { return ruleset }
        for d in errors { FileHandle.standardError.write(Data(d.rendered(sources: result.sources).utf8)) }
        FileHandle.standardError.write(Data("rules do not compile: \(errors.count) error(s); run `vigil rules check`\n".utf8))
        throw ExitCode(1)
    }
}

extension RulesCommand {
    struct Check: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Parse, type-check and compile rules; report every error and warning.",
            discussion: "Exit status 0 when there is no error (warnings allowed), 1 otherwise.")

        @Argument(help: "Rules files or directories.") var paths: [String] = ["Rules"]
        @Option(help: "Output format: text or json.") var format: OutputFormat = .text
        @Option(help: "The ruleset running now (a directory or files): warn about windows whose definition changed, since their state is rebuilt.")
        var previous: [String] = []

        enum OutputFormat: String, ExpressibleByArgument { case text, json }

        func run() async throws {
            let running = previous.isEmpty ? nil : RulesetLoader.load(paths: previous).ruleset
            let result = RulesetLoader.load(paths: paths, previous: running)
            let errors = result.diagnostics.filter { $0.severity == .error }.count
            let warnings = result.diagnostics.count - errors
            switch format {
            case .json:
                let encoder = JSONEncoder()
                encoder.outputFormatting = [.prettyPrinted, .sortedKeys]
                let report = JSONReport(version: result.ruleset?.version, errors: errors, warnings: warnings, diagnostics: result.diagnostics)
                print(String(decoding: try encoder.encode(report), as: UTF8.self))
            case .text:
                for d in result.diagnostics { print(d.rendered(sources: result.sources)) }
                if let rs = result.ruleset {
                    print(
                        "ok: \(rs.rules.count) rules, \(rs.windows.count) windows, \(rs.lists.count) lists; version \(rs.version); \(warnings) warning(s)"
                    )
                } else {
                    print("\(errors) error(s), \(warnings) warning(s)")
                }
            }
            if errors > 0 { throw ExitCode(1) }
        }

        struct JSONReport: Encodable {
            var version: String?
            var errors: Int
            var warnings: Int
            var diagnostics: [Diagnostic]
        }
    }

    struct Test: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Run the rule tests (*.test.json) beside the rules.",
            discussion: "Exit status 1 when any case fails or the rules do not compile.")

        @Argument(help: "Rules files or directories (tests are searched in the same places).") var paths: [String] = ["Rules"]
        @Flag(help: "Fail when a rule has no test case that expects it to hit.") var requireTests = false

        func run() async throws {
            let ruleset = try RulesCommand.loadOrReport(paths)
            let files = RuleTestRunner.testFiles(in: paths)
            let results = RuleTestRunner.run(ruleset: ruleset, files: files)
            for r in results {
                print("\(r.passed ? "PASS" : "FAIL")  \(r.file): \(r.name) (\(r.steps) transactions)")
                for f in r.failures { print("      \(f)") }
            }
            let failed = results.filter { !$0.passed }.count
            print("\(results.count - failed) passed, \(failed) failed")
            let untested = RuleTestRunner.untested(ruleset, results: results)
            if !untested.isEmpty {
                print("rules with no test case that expects them to hit: \(untested.joined(separator: ", "))")
                print("(vigil serve refuses these rules unless started with --no-require-tests)")
            }
            if results.isEmpty { print("no rule tests found under \(paths.joined(separator: " "))") }
            if failed > 0 || results.isEmpty || (requireTests && !untested.isEmpty) { throw ExitCode(1) }
        }
    }
}
