import Foundation

/// Loads a ruleset from files: parse every file, check and compile everything, and return
/// either the ruleset or every diagnostic of every file.
public enum RulesetLoader {
    /// The result of a load: a ruleset when there were no errors, and all diagnostics.
    public struct Result: Sendable {
        /// The compiled ruleset, or nil when any diagnostic is an error.
        public var ruleset: CompiledRuleset?
        /// Every error and warning, sorted by file and position.
        public var diagnostics: [Diagnostic]
        /// The files read, by path, for rendering diagnostics with source lines.
        public var sources: [String: SourceFile]
    }

    /// Finds `*.rules` files: each path is a file or a directory searched recursively;
    /// results are sorted so the version hash does not depend on directory order.
    public static func ruleFiles(in paths: [String]) -> [String] {
        var files: [String] = []
        let fm = FileManager.default
        for path in paths {
            var isDir: ObjCBool = false
            guard fm.fileExists(atPath: path, isDirectory: &isDir) else {
                files.append(path)  // reported as unreadable by `load`
                continue
            }
            if isDir.boolValue {
                let base = URL(fileURLWithPath: path)
                let items = fm.enumerator(atPath: URL(fileURLWithPath: path).resolvingSymlinksInPath().path)?.compactMap { $0 as? String } ?? []
                for item in items where item.hasSuffix(".rules") {
                    files.append(base.appendingPathComponent(item).path)
                }
            } else {
                files.append(path)
            }
        }
        return files.sorted()
    }

    /// Loads rules from files and directories (default `Rules/`).
    ///
    /// `previous` is the ruleset running now: a window whose definition changed is
    /// reported as warning W0003, because its state is rebuilt from scratch.
    public static func load(paths: [String], previous: CompiledRuleset? = nil) -> Result {
        var sources: [SourceFile] = []
        var diagnostics: [Diagnostic] = []
        for path in ruleFiles(in: paths) {
            if let data = FileManager.default.contents(atPath: path), let text = String(data: data, encoding: .utf8) {
                sources.append(SourceFile(path: path, text: text))
            } else {
                diagnostics.append(
                    Diagnostic(
                        .ioError,
                        SourceRange(file: path, start: SourceLocation(line: 1, column: 1), end: SourceLocation(line: 1, column: 1)),
                        "cannot read `\(path)` as UTF-8 text"))
            }
        }
        var result = compile(
            sources: sources, previous: previous,
            readFile: { path in
                FileManager.default.contents(atPath: path).flatMap { String(data: $0, encoding: .utf8) }
            })
        result.diagnostics = sorted(diagnostics + result.diagnostics)
        if result.diagnostics.containsErrors { result.ruleset = nil }
        return result
    }

    /// Compiles in-memory sources (tests, editors). `readFile` resolves `file` lists.
    public static func compile(
        sources: [SourceFile], previous: CompiledRuleset? = nil,
        readFile: @escaping @Sendable (String) -> String? = { _ in nil }
    ) -> Result {
        let parsed = sources.map(Parser.parse)
        var checker = Checker(readFile: readFile)
        checker.diagnostics = parsed.flatMap(\.diagnostics)
        let lists = checker.declareLists(parsed)
        checker.declareWindows(parsed)
        let windows = checker.compileWindows()
        let rules = checker.compileRules(parsed)
        let policy = checker.compilePolicy(parsed, rules: rules)
        checker.warnUnused()
        var diagnostics = checker.diagnostics
        if let previous {
            for window in windows {
                if let old = previous.window(named: window.name), old.identity != window.identity {
                    diagnostics.append(
                        Diagnostic(
                            .windowChanged, window.range,
                            "window `\(window.name)` changed definition; its state will be rebuilt",
                            help: "was `\(old.identity)`, now `\(window.identity)`; keep the old name for the old definition if you need its history")
                    )
                }
            }
        }
        diagnostics = sorted(diagnostics)
        var hasher = ContentHash()
        for source in sources.sorted(by: { $0.path < $1.path }) {
            hasher.add(source.path.split(separator: "/").last.map(String.init) ?? source.path)
            hasher.add(source.text)
        }
        for list in lists.sorted(by: { $0.name < $1.name }) {
            hasher.add(list.name)
            for member in list.members.sorted() { hasher.add(member) }
        }
        let sourceMap = Dictionary(sources.map { ($0.path, $0) }, uniquingKeysWith: { a, _ in a })
        guard !diagnostics.containsErrors else {
            return Result(ruleset: nil, diagnostics: diagnostics, sources: sourceMap)
        }
        var texts: [String: String] = [:]
        for source in sources { texts[source.path.split(separator: "/").last.map(String.init) ?? source.path] = source.text }
        for list in lists {
            if case .file = list.source { texts["list \(list.name)"] = list.members.sorted().joined(separator: "\n") + "\n" }
        }
        var fieldsRead = checker.fieldsReadAnywhere
        for window in windows { fieldsRead.insert(window.key) }
        let ruleset = CompiledRuleset(
            version: "rs-" + hasher.hex, rules: rules, windows: windows, lists: lists,
            warnings: diagnostics.filter { $0.severity != .error }, policy: policy, texts: texts, fieldsRead: fieldsRead)
        return Result(ruleset: ruleset, diagnostics: diagnostics, sources: sourceMap)
    }

    static func sorted(_ d: [Diagnostic]) -> [Diagnostic] {
        d.sorted { ($0.range.file, $0.range.start, $0.code) < ($1.range.file, $1.range.start, $1.code) }
    }
}

/// 64-bit FNV-1a over length-prefixed parts: a stable version id, not a security hash.
struct ContentHash {
    private var state: UInt64 = 0xcbf2_9ce4_8422_2325

    mutating func add(_ text: String) {
        for byte in String(text.utf8.count).utf8 { mix(byte) }
        mix(0)
        for byte in text.utf8 { mix(byte) }
    }

    private mutating func mix(_ byte: UInt8) {
        state ^= UInt64(byte)
        state = state &* 0x0000_0100_0000_01b3
    }

    var hex: String {
        let s = String(state, radix: 16)
        return String(repeating: "0", count: 16 - s.count) + s
    }
}
