import Foundation

/// Resolves names and checks types across all parsed files, then compiles what checked.
/// Every problem becomes a diagnostic; the checker goes on after each one.
struct Checker {
    struct ListInfo {
        var slot: Int
        var decl: ListDecl
        var members: Set<String>
        var source: ListSource
    }

    struct WindowInfo {
        var slot: Int
        var decl: WindowDecl
        var type: ValueType
        var keyName: String
        /// avg and max have no value over an empty window.
        var emptyPossible: Bool
    }

    var diagnostics: [Diagnostic] = []
    var lists: [String: ListInfo] = [:]
    var windows: [String: WindowInfo] = [:]
    var nextID = 0
    var allowWindows = true
    var usedFields: Set<Field> = []
    /// Every field anything checked so far reads (rules, reasons, windows), never reset:
    /// the ruleset's `fieldsRead`.
    var fieldsReadAnywhere = FieldSet()
    var usedWindowSlots: Set<Int> = []
    var usedListSlots: Set<Int> = []
    var usedListNames: Set<String> = []
    var usedWindowNames: Set<String> = []
    /// Windows whose declaration had errors: uses of them are not reported again.
    var brokenWindows: Set<String> = []
    /// Reads a list file; injected so the checker stays free of I/O policy.
    let readFile: @Sendable (String) -> String?

    init(readFile: @escaping @Sendable (String) -> String?) {
        self.readFile = readFile
    }

    static func location(_ r: SourceRange) -> String {
        "\(r.file):\(r.start.line):\(r.start.column)"
    }

    // MARK: lists

    mutating func declareLists(_ files: [ParsedFile]) -> [ListSpec] {
        var specs: [ListSpec] = []
        for file in files {
            for case .list(let decl) in file.declarations {
                if let first = lists[decl.name] {
                    diagnostics.append(
                        Diagnostic(
                            .duplicateList, decl.nameRange, "list `\(decl.name)` is declared twice",
                            note: "first declared at \(Checker.location(first.decl.nameRange))"))
                    continue
                }
                var members: Set<String> = []
                var source = ListSource.inline
                switch decl.source {
                case .inline(let items):
                    members = Set(items)
                case .file(let path):
                    let resolved =
                        path.hasPrefix("/")
                        ? path
                        : (URL(fileURLWithPath: file.source.path).deletingLastPathComponent().appendingPathComponent(path).path)
                    source = .file(resolved)
                    if let text = readFile(resolved) {
                        for line in text.split(whereSeparator: \.isNewline) {
                            let entry = line.split(separator: "#", maxSplits: 1, omittingEmptySubsequences: false).first ?? ""
                            let trimmed = entry.trimmingCharacters(in: .whitespaces)
                            if !trimmed.isEmpty { members.insert(trimmed) }
                        }
                    } else {
                        diagnostics.append(
                            Diagnostic(
                                .listFileUnreadable, decl.range,
                                "cannot read list file `\(path)` (looked for \(resolved))",
                                help: "put the file beside the rules file, one member per line"))
                    }
                case .table(let name):
                    source = .table(name)
                }
                let unreadable = diagnostics.last?.code == DiagnosticCode.listFileUnreadable.rawValue && diagnostics.last?.range == decl.range
                if case .table = source {
                } else if members.isEmpty, !unreadable {
                    diagnostics.append(Diagnostic(.emptyList, decl.nameRange, "list `\(decl.name)` is empty"))
                }
                let info = ListInfo(slot: specs.count, decl: decl, members: members, source: source)
                lists[decl.name] = info
                specs.append(ListSpec(name: decl.name, slot: info.slot, source: source, members: members, range: decl.range))
            }
        }
        return specs
    }

    var compiler: Compiler {
        var statics = [Set<String>?](repeating: nil, count: lists.count)
        for info in lists.values {
            if case .table = info.source { continue }
            if info.slot < statics.count { statics[info.slot] = info.members }
        }
        return Compiler(staticLists: statics)
    }

    // MARK: windows

    mutating func declareWindows(_ files: [ParsedFile]) {
        for file in files {
            for case .window(let decl) in file.declarations {
                if let first = windows[decl.name] {
                    diagnostics.append(
                        Diagnostic(
                            .duplicateWindow, decl.nameRange, "window `\(decl.name)` is declared twice",
                            note: "first declared at \(Checker.location(first.decl.nameRange))"))
                    continue
                }
                guard let aggregate = WindowAggregate(rawValue: decl.aggregate) else {
                    diagnostics.append(
                        Diagnostic(
                            .invalidWindow, decl.aggregateRange, "unknown aggregate `\(decl.aggregate)`",
                            help: Suggest.closest(to: decl.aggregate, in: WindowAggregate.allCases.map(\.rawValue)).map { "did you mean `\($0)`?" }
                                ?? "aggregates: count, sum, avg, max, count_distinct"))
                    brokenWindows.insert(decl.name)
                    continue
                }
                // The result type is provisional until the value expression is checked.
                let keyOptional = Field.named(decl.key)?.type.optional ?? false
                let empty = aggregate == .avg || aggregate == .max
                windows[decl.name] = WindowInfo(
                    slot: windows.count, decl: decl,
                    type: ValueType(.int, optional: keyOptional || empty), keyName: decl.key, emptyPossible: empty)
            }
        }
    }

    /// Checks and compiles every declared window, in slot order.
    mutating func compileWindows() -> [WindowSpec] {
        var specs: [WindowSpec] = []
        let compiler = self.compiler
        allowWindows = false
        defer { allowWindows = true }
        for info in windows.values.sorted(by: { $0.slot < $1.slot }) {
            let decl = info.decl
            var ok = true
            let key = Field.named(decl.key)
            if key == nil {
                ok = false
                diagnostics.append(
                    Diagnostic(
                        .unknownField, decl.keyRange, "unknown key field `\(decl.key)`",
                        help: Suggest.closest(to: decl.key, in: Field.allCases.map(\.name)).map { "did you mean `\($0)`?" }))
            } else if key?.type.base != .string {
                ok = false
                diagnostics.append(Diagnostic(.invalidWindow, decl.keyRange, "a window key must be a string field such as `card_id`"))
            }
            if decl.duration <= 0, !diagnostics.contains(where: { $0.range == decl.durationRange }) {
                ok = false
                diagnostics.append(Diagnostic(.invalidDuration, decl.durationRange, "a window must cover a positive duration"))
            }
            let aggregate = WindowAggregate(rawValue: decl.aggregate) ?? .count
            var valueType: ValueType? = nil
            var value: Evaluator? = nil
            if let expr = decl.value {
                if aggregate == .count {
                    ok = false
                    diagnostics.append(
                        Diagnostic(
                            .invalidWindow, expr.range, "`count` takes no value; write `count by \(decl.key)`",
                            help: "to count distinct values use `count_distinct \(render(expr)) by \(decl.key)`"))
                } else if var t = check(expr, []) {
                    if aggregate != .countDistinct, let checked = requireValue(t) { t = checked } else if aggregate != .countDistinct { ok = false }
                    if aggregate == .countDistinct && t.type.base != .string {
                        ok = false
                        diagnostics.append(Diagnostic(.invalidWindow, expr.range, "`count_distinct` counts strings, found `\(t.type)`"))
                    } else if aggregate != .countDistinct && !t.type.isNumeric {
                        ok = false
                        diagnostics.append(
                            Diagnostic(.invalidWindow, expr.range, "`\(aggregate.rawValue)` needs a number or money, found `\(t.type)`"))
                    }
                    valueType = t.type
                    value = compiler.compile(t)
                } else {
                    ok = false
                }
            } else if aggregate != .count {
                ok = false
                diagnostics.append(
                    Diagnostic(
                        .invalidWindow, decl.aggregateRange,
                        "`\(aggregate.rawValue)` needs a value, e.g. `\(aggregate.rawValue) amount_base by \(decl.key)`"))
            }
            var filter: Evaluator? = nil
            if let expr = decl.filter {
                if let t = check(expr, []).flatMap({ requireValue($0) }) {
                    if t.type.base != .bool {
                        ok = false
                        diagnostics.append(Diagnostic(.conditionNotBool, expr.range, "a window's `where` must be a bool, found `\(t.type)`"))
                    }
                    filter = compiler.compile(t)
                } else {
                    ok = false
                }
            }
            let resultBase: BaseType =
                switch aggregate {
                case .count, .countDistinct: .int
                case .avg: valueType?.base == .int ? .decimal : valueType?.base ?? .decimal
                case .sum, .max: valueType?.base ?? .int
                }
            let type = ValueType(resultBase, optional: (key?.type.optional ?? false) || info.emptyPossible)
            windows[decl.name]?.type = type
            guard ok, let key else {
                brokenWindows.insert(decl.name)
                continue
            }
            specs.append(
                WindowSpec(
                    name: decl.name, slot: info.slot, key: key, aggregate: aggregate,
                    value: value, valueType: valueType?.unwrapped, resultType: type, duration: decl.duration,
                    filter: filter, identity: Checker.identity(decl), range: decl.range))
        }
        return specs
    }

    /// Canonical text of a window's definition: equal iff the state can be kept.
    static func identity(_ d: WindowDecl) -> String {
        var s = d.aggregate
        if let v = d.value { s += " " + RuleFormatter.expression(v) }
        s += " by \(d.key) over \(Value.formatDuration(d.duration))"
        if let f = d.filter { s += " where " + RuleFormatter.expression(f) }
        return s
    }

    func render(_ e: Expr) -> String { RuleFormatter.expression(e) }
}
