import ArgumentParser
import Foundation
import RuleLanguage

extension RulesCommand {
    struct Fmt: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Print rules files in canonical format.",
            discussion: "With --check, print nothing and exit 1 if any file is not formatted; with --write, rewrite files in place.")

        @Argument(help: "Rules files or directories.") var paths: [String] = ["Rules"]
        @Flag(help: "Exit 1 if a file is not in canonical format.") var check = false
        @Flag(help: "Rewrite files in place.") var write = false

        func run() async throws {
            var unformatted: [String] = []
            var failed = false
            for path in RulesetLoader.ruleFiles(in: paths) {
                guard let data = FileManager.default.contents(atPath: path) else {
                    failed = true
                    continue
                }
                let source = SourceFile(path: path, text: String(decoding: data, as: UTF8.self))
                guard let formatted = RuleFormatter.format(source) else {
                    print("\(path): does not parse; run `vigil rules check \(path)`")
                    failed = true
                    continue
                }
                if check {
                    if formatted != source.text { unformatted.append(path) }
                } else if write {
                    if formatted != source.text { try Data(formatted.utf8).write(to: URL(fileURLWithPath: path)) }
                } else {
                    print(formatted, terminator: "")
                }
            }
            for p in unformatted { print("not formatted: \(p)") }
            if failed || !unformatted.isEmpty { throw ExitCode(1) }
        }
    }
}
