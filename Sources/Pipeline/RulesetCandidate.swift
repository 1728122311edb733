import Foundation
import RuleLanguage
import VigilCore

/// A candidate ruleset as a folder's files (rules, list files, rule tests) by relative
/// path: what a proposal stores, so the exact folder can be rebuilt, checked and tested
/// again at approval and activation.
public struct RulesetCandidate: Sendable {
    /// File texts by path relative to the folder (`velocity.rules`, `lists/blocked.txt`).
    public var files: [String: String]

    /// The most a candidate may hold: a rules folder is small; this bounds what one
    /// request or one proposal row can make the server write and compile.
    public static let maximumFiles = 500
    public static let maximumBytes = 8 * 1024 * 1024

    /// Wraps files; see ``validate()``.
    public init(files: [String: String]) { self.files = files }

    /// Reads every regular, non-hidden file under `directory`.
    public static func read(directory: String) throws -> RulesetCandidate {
        let root = URL(fileURLWithPath: directory).resolvingSymlinksInPath()
        var isDirectory: ObjCBool = false
        guard FileManager.default.fileExists(atPath: root.path, isDirectory: &isDirectory), isDirectory.boolValue else {
            throw CandidateError("\(directory) is not a folder; propose the folder that holds the .rules files and their tests")
        }
        var files: [String: String] = [:]
        let items = FileManager.default.enumerator(atPath: root.path)?.compactMap { $0 as? String } ?? []
        for item in items.sorted() where !item.split(separator: "/").contains(where: { $0.hasPrefix(".") }) {
            let url = root.appendingPathComponent(item)
            guard (try? url.resourceValues(forKeys: [.isRegularFileKey]))?.isRegularFile == true else { continue }
            guard let data = FileManager.default.contents(atPath: url.path), let text = String(data: data, encoding: .utf8) else {
                throw CandidateError("\(url.path) is not UTF-8 text; a proposal holds only rules, lists and tests: move it out of the folder")
            }
            files[item] = text
        }
        let candidate = RulesetCandidate(files: files)
        try candidate.validate()
        return candidate
    }

    /// Refuses paths that would leave the folder, and candidates past the limits.
    public func validate() throws {
        guard files.keys.contains(where: { $0.hasSuffix(".rules") }) else {
            throw CandidateError("the candidate has no .rules file; send the rules folder's files by relative path")
        }
        guard files.count <= Self.maximumFiles, files.values.reduce(0, { $0 + $1.utf8.count }) <= Self.maximumBytes else {
            throw CandidateError(
                "the candidate has more than \(Self.maximumFiles) files or \(Self.maximumBytes) bytes; propose only the rules folder")
        }
        for path in files.keys {
            let parts = path.split(separator: "/", omittingEmptySubsequences: false)
            guard !path.hasPrefix("/"), !path.contains("\0"), !parts.contains(where: { $0.isEmpty || $0 == "." || $0 == ".." }) else {
                throw CandidateError("file name \"\(path)\" is not a plain relative path inside the folder (no /, . or .. parts)")
            }
        }
    }

    /// Writes the files to a fresh temporary folder, runs `body` with its path, removes it.
    public func materialize<T>(_ body: (String) async throws -> T) async throws -> T {
        try validate()
        let folder = FileManager.default.temporaryDirectory.appendingPathComponent("vigil-candidate-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: folder, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(at: folder) }
        for (path, text) in files {
            let url = folder.appendingPathComponent(path)
            try FileManager.default.createDirectory(at: url.deletingLastPathComponent(), withIntermediateDirectories: true)
            try Data(text.utf8).write(to: url)
        }
        return try await body(folder.path)
    }

    /// Compiles the candidate and runs its tests (in a temporary copy of the folder).
    public func check(previous: CompiledRuleset? = nil) async throws -> CandidateChecks {
        try await materialize { path in CandidateChecks.run(path: path, previous: previous).checks }
    }

    /// Loads the rules under `path` as ``RulesetLoader/load(paths:previous:)`` does, except
    /// that a `file` list must lie inside `path`: a proposal is self-contained (the same
    /// files compile to the same version wherever they are rebuilt), and a proposal sent
    /// over HTTP cannot make the server read its other files into a list.
    public static func load(path: String, previous: CompiledRuleset? = nil) -> RulesetLoader.Result {
        let root = URL(fileURLWithPath: path).standardizedFileURL.path
        let inside = root.hasSuffix("/") ? root : root + "/"
        let sources = RulesetLoader.ruleFiles(in: [path]).compactMap { file in
            FileManager.default.contents(atPath: file).flatMap { String(data: $0, encoding: .utf8) }.map { SourceFile(path: file, text: $0) }
        }
        return RulesetLoader.compile(
            sources: sources, previous: previous,
            readFile: { file in
                let resolved = URL(fileURLWithPath: file).standardizedFileURL.path
                guard resolved.hasPrefix(inside) else { return nil }
                return FileManager.default.contents(atPath: resolved).flatMap { String(data: $0, encoding: .utf8) }
            })
    }

    /// The texts the compiled ruleset records (rules files by name, file lists' members),
    /// as `ruleset_versions.texts` holds them: what `vigil rules diff` compares; nil when
    /// it does not compile.
    public func compiledTexts() async throws -> [String: String]? {
        try await materialize { path in Self.load(path: path).ruleset?.texts }
    }
}

/// A candidate that cannot be proposed as sent, with what to do.
public struct CandidateError: Error, Sendable, CustomStringConvertible {
    /// What was wrong and what to do.
    public var message: String
    init(_ message: String) { self.message = message }
    public var description: String { message }
}

/// What `check` and `test` said about a candidate: stored with its proposal.
public struct CandidateChecks: Sendable, Codable, Equatable {
    /// The version it compiles to; nil when it does not compile.
    public var version: String?
    public var rules = 0
    public var warnings = 0
    /// Every error, rendered with its line (empty when it compiles).
    public var errors: [String] = []
    public var testsPassed = 0
    public var testsFailed = 0
    /// `file name: failure` for each failing case.
    public var failures: [String] = []
    /// Rules no test case expects to hit.
    public var untested: [String] = []

    /// Why the candidate cannot go live, or nil when it can.
    public func refusal(requireTests: Bool) -> String? {
        if !errors.isEmpty { return "the rules do not compile:\n" + errors.joined() }
        if testsFailed > 0 { return "\(testsFailed) rule test(s) fail:\n" + failures.joined(separator: "\n") }
        if requireTests && !untested.isEmpty {
            return "rule(s) with no test case that expects them to hit: \(untested.joined(separator: ", ")); add cases beside the rules"
        }
        return nil
    }

    /// The checks as stored (`ruleset_proposals.checks`).
    public var json: String {
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.sortedKeys]
        encoder.keyEncodingStrategy = .convertToSnakeCase
        return (try? encoder.encode(self)).map { String(decoding: $0, as: UTF8.self) } ?? "{}"
    }

    /// Compiles the rules under `path` and runs the tests beside them.
    static func run(path: String, previous: CompiledRuleset?) -> (checks: CandidateChecks, ruleset: CompiledRuleset?) {
        let loaded = RulesetCandidate.load(path: path, previous: previous)
        var checks = CandidateChecks()
        // Paths inside the temporary copy mean nothing to the reader: show them relative.
        let prefix = path.hasSuffix("/") ? path : path + "/"
        checks.errors = loaded.diagnostics.filter { $0.severity == .error }.map {
            $0.rendered(sources: loaded.sources).replacingOccurrences(of: prefix, with: "")
        }
        checks.warnings = loaded.diagnostics.count - checks.errors.count
        guard let ruleset = loaded.ruleset else { return (checks, nil) }
        checks.version = ruleset.version
        checks.rules = ruleset.rules.count
        let results = RuleTestRunner.run(ruleset: ruleset, files: RuleTestRunner.testFiles(in: [path]))
        checks.testsPassed = results.filter(\.passed).count
        checks.testsFailed = results.count - checks.testsPassed
        checks.failures = results.filter { !$0.passed }.map {
            "\($0.file.replacingOccurrences(of: prefix, with: "")) \($0.name): \($0.failures.joined(separator: "; "))"
        }
        checks.untested = RuleTestRunner.untested(ruleset, results: results)
        return (checks, ruleset)
    }
}
