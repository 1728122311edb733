import VigilCore

/// Checking and compiling rule declarations.
extension Checker {
    mutating func compileRules(_ files: [ParsedFile]) -> [CompiledRule] {
        var rules: [CompiledRule] = []
        var seen: [String: SourceRange] = [:]
        let compiler = self.compiler
        for file in files {
            for case .rule(let decl) in file.declarations {
                if let first = seen[decl.id] {
                    diagnostics.append(
                        Diagnostic(
                            .duplicateRule, decl.idRange, "rule id `\(decl.id)` is used twice",
                            help: "rule ids must be unique across all rules files", note: "first declared at \(Checker.location(first))"))
                    // Still checked, so its own mistakes are reported too.
                    _ = compileRule(decl, index: rules.count, compiler: compiler)
                    continue
                }
                seen[decl.id] = decl.idRange
                if let rule = compileRule(decl, index: rules.count, compiler: compiler) { rules.append(rule) }
            }
        }
        return rules
    }

    mutating func attribute<T: RawRepresentable & CaseIterable>(_ word: String, _ range: SourceRange, _ keyword: String) -> T?
    where T.RawValue == String {
        if let v = T(rawValue: word) { return v }
        let all = T.allCases.map(\.rawValue)
        diagnostics.append(
            Diagnostic(
                .invalidAttribute, range, "`\(word)` is not a valid \(keyword)",
                help: Suggest.closest(to: word, in: all).map { "did you mean `\($0)`?" } ?? "use one of: \(all.joined(separator: ", "))"))
        return nil
    }

    mutating func compileRule(_ decl: RuleDecl, index: Int, compiler: Compiler) -> CompiledRule? {
        let diagnosticsBefore = diagnostics.count
        usedFields = []
        usedWindowSlots = []
        usedListSlots = []
        nextID = 0
        var seenClauses: [String: SourceRange] = [:]
        var description = ""
        var reasonText: String? = nil
        var reasonRange: SourceRange? = nil
        var severity: Severity? = nil
        var score: Int? = nil
        var mode = RuleMode.alert
        var onError = OnErrorPolicy.skip
        var action = DecisionOutcome.review
        var actionRange: SourceRange? = nil
        var tags: [String] = []
        var when: Expr? = nil
        var requires: [Expr] = []
        for clause in decl.clauses {
            if let first = seenClauses[clause.keyword], clause.keyword != "require" {
                diagnostics.append(
                    Diagnostic(
                        .duplicateClause, clause.range, "`\(clause.keyword)` is given twice in rule `\(decl.id)`",
                        note: "first given at \(Checker.location(first))"))
                continue
            }
            seenClauses[clause.keyword] = clause.range
            switch clause.kind {
            case .description(let s): description = s
            case .when(let e): when = e
            case .severity(let w): severity = attribute(w, clause.valueRange, "severity")
            case .mode(let w): mode = attribute(w, clause.valueRange, "mode") ?? mode
            case .onError(let w): onError = attribute(w, clause.valueRange, "on_error policy") ?? onError
            case .action(let w):
                action = attribute(w, clause.valueRange, "action") ?? action
                actionRange = clause.range
            case .score(let v):
                if (0...100).contains(v) {
                    score = Int(v)
                } else {
                    diagnostics.append(
                        Diagnostic(.invalidAttribute, clause.valueRange, "score \(v) is out of range", help: "a score is from 0 to 100"))
                }
            case .reason(let s):
                reasonText = s
                reasonRange = clause.valueRange
            case .tags(let t): tags = t
            case .require(let paths): requires += paths
            }
        }
        for (keyword, present) in [("when", when != nil), ("severity", seenClauses["severity"] != nil), ("score", seenClauses["score"] != nil)]
        where !present {
            diagnostics.append(
                Diagnostic(
                    .missingClause, decl.idRange, "rule `\(decl.id)` has no `\(keyword)` clause",
                    help: keyword == "when"
                        ? "add `when <condition>`" : keyword == "severity" ? "add `severity low|medium|high|critical`" : "add `score <0-100>`"))
        }
        // require: each name must resolve; its presence is then a fact for the condition.
        var facts: Facts = []
        var requiredFields: [Field] = []
        var requiredWindows: [Int] = []
        for path in requires {
            guard case .path(let name) = path.kind, let t = resolvePath(name, path.range, []) else { continue }
            if !t.type.optional {
                diagnostics.append(Diagnostic(.redundantPresenceCheck, path.range, "`\(name)` is never missing, so requiring it has no effect"))
            }
            switch t.kind {
            case .field(let f): requiredFields.append(f)
            case .window(let slot, _): requiredWindows.append(slot)
            default: break
            }
            facts.insert(name)
        }
        var condition: TypedExpr? = nil
        if let when {
            if let t = check(when, facts).flatMap({ requireValue($0) }) {
                if t.type.base == .bool {
                    condition = t
                } else {
                    diagnostics.append(
                        Diagnostic(
                            .conditionNotBool, when.range, "a rule's `when` must be a bool, found `\(t.type)`",
                            help: "compare it, e.g. `... > 0`"))
                }
            }
        }
        let fieldsRead = usedFields.sorted { $0.rawValue < $1.rawValue }
        let windowsUsed = usedWindowSlots.sorted()
        let listsUsed = usedListSlots.sorted()
        let reason = compileReason(reasonText ?? description, reasonRange ?? decl.idRange, facts, compiler)
        let newErrors = diagnostics[diagnosticsBefore...].contains { $0.severity == .error }
        guard !newErrors, let condition, let severity, let score, let reason else { return nil }
        if action == .allow, let actionRange { checkAllowRule(decl.id, mode: mode, score: score, condition: condition, at: actionRange) }
        return CompiledRule(
            id: decl.id, index: index, description: description, severity: severity, score: score,
            mode: mode, action: action, tags: tags, onError: onError, requiredFields: requiredFields, requiredWindows: requiredWindows,
            condition: condition, reason: reason, reasonTemplate: reasonText ?? description,
            fieldsRead: fieldsRead, windowsUsed: windowsUsed, listsUsed: listsUsed, cost: Cost.of(condition),
            range: decl.range, evaluate: compiler.compile(condition))
    }

    /// Splits `"... {expr} ..."` into text and compiled interpolations; `\{` is a literal brace.
    mutating func compileReason(_ template: String, _ range: SourceRange, _ facts: Facts, _ compiler: Compiler) -> [ReasonPart]? {
        var parts: [ReasonPart] = []
        var text = ""
        let scalars = Array(template.unicodeScalars)
        var i = 0
        var ok = true
        while i < scalars.count {
            let c = scalars[i]
            if c == "\\", i + 1 < scalars.count, scalars[i + 1] == "{" || scalars[i + 1] == "}" {
                text.unicodeScalars.append(scalars[i + 1])
                i += 2
                continue
            }
            if c == "{" {
                var j = i + 1
                var inner = ""
                while j < scalars.count, scalars[j] != "}" {
                    inner.unicodeScalars.append(scalars[j])
                    j += 1
                }
                let column = range.start.column + 1 + i + 1
                guard j < scalars.count else {
                    diagnostics.append(
                        Diagnostic(
                            .expectedToken, range, "`{` in the reason is not closed by `}`",
                            help: "write `\\{` for a literal brace"))
                    return nil
                }
                let (expr, diags) = Parser.parseExpression(inner, file: range.file, line: range.start.line, column: column)
                diagnostics += diags
                // Reasons may show optional values: a missing one renders as "missing".
                if let expr, let t = check(expr, facts) {
                    if !text.isEmpty { parts.append(.text(text)) }
                    text = ""
                    parts.append(.value(compiler.compile(t), t.type))
                } else {
                    ok = false
                }
                i = j + 1
                continue
            }
            text.unicodeScalars.append(c)
            i += 1
        }
        if !text.isEmpty { parts.append(.text(text)) }
        return ok ? parts : nil
    }

    /// Warnings for lists and windows no rule reads.
    mutating func warnUnused() {
        for (name, info) in lists where !usedListNames.contains(name) {
            diagnostics.append(
                Diagnostic(
                    .unusedList, info.decl.nameRange, "list `\(name)` is never used",
                    help: "remove it, or use it with `<field> in \(name)`"))
        }
        for (name, info) in windows where !usedWindowNames.contains(name) {
            diagnostics.append(
                Diagnostic(
                    .unusedWindow, info.decl.nameRange, "window `\(name)` is never used",
                    help: "remove it: an unused window still costs memory and time for every transaction"))
        }
    }
}
