/// Recursive-descent parser for rules files. It recovers at declaration and clause
/// boundaries so that every syntax error in a file is reported, and bounds nesting depth
/// so that no input can exhaust the stack.
public struct Parser {
    var tokens: [Token]
    var position = 0
    var diagnostics: [Diagnostic] = []
    let file: String
    var depth = 0
    /// Panic mode: after a syntax error, further errors are dropped until the parser
    /// resynchronises at a clause or declaration, so one mistake gives one message.
    var panicking = false
    /// Syntax errors seen, reported or not (recovery decisions use this).
    var errorCount = 0
    /// Lines where the lexer already reported a problem; parser errors there are cascades.
    var lexerErrorLines: Set<Int> = []
    /// Deepest expression nesting accepted; deeper input is a diagnostic, not a crash.
    static let maxDepth = 64
    /// Most operators in one expression. Chains such as `a + a + ...` build trees as deep
    /// as they are long, and the checker and evaluator recurse over them, so this bounds
    /// stack use for any input.
    static let maxOperators = 200
    var operatorBudget = Parser.maxOperators

    static let clauseKeywords: Set<String> = [
        "description", "when", "severity", "score", "reason", "mode", "tags", "on_error", "require", "action",
    ]
    static let declarationKeywords: Set<String> = ["list", "window", "rule", "policy"]

    /// Parses a whole file.
    public static func parse(_ source: SourceFile) -> ParsedFile {
        var lexer = Lexer(text: source.text, file: source.path)
        let tokens = lexer.tokenize()
        var parser = Parser(tokens: tokens, file: source.path)
        parser.lexerErrorLines = Set(lexer.diagnostics.map(\.range.start.line))
        let decls = parser.parseDeclarations()
        return ParsedFile(
            source: source, declarations: decls, comments: lexer.comments,
            diagnostics: lexer.diagnostics + parser.diagnostics)
    }

    /// Parses one expression (used for reason interpolations); nil after a diagnostic.
    static func parseExpression(_ text: String, file: String, line: Int, column: Int) -> (Expr?, [Diagnostic]) {
        var lexer = Lexer(text: text, file: file, line: line, column: column)
        let tokens = lexer.tokenize()
        var parser = Parser(tokens: tokens, file: file)
        let expr = parser.expression()
        if !parser.atEnd {
            parser.error(.expectedToken, parser.current.range, "expected the end of the interpolation, found \(parser.current.describe)")
        }
        let diags = lexer.diagnostics + parser.diagnostics
        return (diags.isEmpty ? expr : nil, diags)
    }

    init(tokens: [Token], file: String) {
        self.tokens = tokens
        self.file = file
    }

    // MARK: token helpers

    var current: Token { tokens[min(position, tokens.count - 1)] }
    var previous: Token { tokens[max(0, min(position - 1, tokens.count - 1))] }
    var atEnd: Bool {
        if case .endOfFile = current.kind { return true }
        return false
    }

    mutating func advance() {
        if position < tokens.count - 1 { position += 1 }
    }

    mutating func error(_ code: DiagnosticCode, _ range: SourceRange, _ message: String, help: String? = nil) {
        errorCount += 1
        guard !panicking, !lexerErrorLines.contains(range.start.line) else { return }
        panicking = true
        diagnostics.append(Diagnostic(code, range, message, help: help))
    }

    /// Consumes `p` or reports "expected `p`"; returns whether it was there.
    @discardableResult
    mutating func expectPunct(_ p: String, _ context: String) -> Bool {
        if current.isPunct(p) {
            advance()
            return true
        }
        error(.expectedToken, current.range, "expected `\(p)` \(context), found \(current.describe)")
        return false
    }

    mutating func expectIdentifier(_ what: String) -> (String, SourceRange)? {
        if let name = current.identifier {
            let r = current.range
            advance()
            return (name, r)
        }
        error(.expectedToken, current.range, "expected \(what), found \(current.describe)")
        return nil
    }

    mutating func expectString(_ what: String) -> (String, SourceRange)? {
        if case .string(let s, _) = current.kind {
            let r = current.range
            advance()
            return (s, r)
        }
        error(.expectedToken, current.range, "expected \(what) (a string in double quotes), found \(current.describe)")
        return nil
    }

    func span(from start: SourceRange) -> SourceRange {
        start.union(previous.range)
    }

    /// Skips to the next token that starts a declaration at the beginning of a line.
    mutating func recoverToDeclaration() {
        while !atEnd {
            if let w = current.identifier, Parser.declarationKeywords.contains(w), current.range.start.column == 1 { return }
            advance()
        }
    }

    // MARK: declarations

    mutating func parseDeclarations() -> [Declaration] {
        var decls: [Declaration] = []
        while !atEnd {
            let before = position
            panicking = false
            guard let word = current.identifier, Parser.declarationKeywords.contains(word) else {
                let suggestion = current.identifier.flatMap { Suggest.closest(to: $0, in: Parser.declarationKeywords) }
                error(
                    .unknownDeclaration, current.range,
                    "expected `list`, `window`, `rule` or `policy`, found \(current.describe)",
                    help: suggestion.map { "did you mean `\($0)`?" })
                advance()
                recoverToDeclaration()
                continue
            }
            let errorsBefore = errorCount
            var decl: Declaration?
            switch word {
            case "list": decl = parseList().map(Declaration.list)
            case "window": decl = parseWindow().map(Declaration.window)
            case "policy": decl = parsePolicy().map(Declaration.policy)
            default: decl = parseRule().map(Declaration.rule)
            }
            if let decl { decls.append(decl) }
            if errorCount > errorsBefore || position == before {
                if position == before { advance() }
                recoverToDeclaration()
            }
        }
        return decls
    }

    mutating func parseList() -> ListDecl? {
        let start = current.range
        advance()
        guard let (name, nameRange) = expectIdentifier("a list name") else { return nil }
        // Optional type annotation `: set<string>` is accepted for readers who like it.
        if current.isPunct(":") {
            advance()
            _ = expectIdentifier("a type")
            if current.isPunct("<") {
                advance()
                _ = expectIdentifier("a type")
                expectPunct(">", "after the element type")
            }
        }
        guard expectPunct("=", "after the list name") else { return nil }
        let source: ListSourceSyntax
        if current.isPunct("[") {
            guard let items = parseStringSet() else { return nil }
            source = .inline(items)
        } else if current.isWord("file") {
            advance()
            guard let (path, _) = expectString("the list file's path") else { return nil }
            source = .file(path)
        } else if current.isWord("table") {
            advance()
            if case .string(let s, _) = current.kind {
                advance()
                source = .table(s)
            } else {
                source = .table(name)
            }
        } else {
            error(
                .expectedToken, current.range,
                "expected `[...]`, `file \"...\"` or `table` after `=`, found \(current.describe)")
            return nil
        }
        return ListDecl(name: name, nameRange: nameRange, source: source, range: span(from: start))
    }

    mutating func parseStringSet() -> [String]? {
        guard expectPunct("[", "to start the set") else { return nil }
        var items: [String] = []
        while !current.isPunct("]") {
            guard let (s, _) = expectString("a set member") else { return nil }
            items.append(s)
            if current.isPunct(",") { advance() } else { break }
        }
        guard expectPunct("]", "to close the set") else { return nil }
        return items
    }

    mutating func parseWindow() -> WindowDecl? {
        let start = current.range
        advance()
        guard let (name, nameRange) = expectIdentifier("a window name") else { return nil }
        guard expectPunct("=", "after the window name") else { return nil }
        guard let (aggregate, aggregateRange) = expectIdentifier("an aggregate (count, sum, avg, max, count_distinct)") else { return nil }
        var value: Expr? = nil
        if !current.isWord("by") {
            value = expression()
        }
        guard current.isWord("by") else {
            error(.expectedToken, current.range, "expected `by` and the key field, found \(current.describe)")
            return nil
        }
        advance()
        let keyStart = current.range
        guard var (key, _) = expectIdentifier("the key field") else { return nil }
        while current.isPunct(".") {
            advance()
            guard let (part, _) = expectIdentifier("a field name after `.`") else { return nil }
            key += "." + part
        }
        let keyRange = span(from: keyStart)
        guard current.isWord("over") else {
            error(.expectedToken, current.range, "expected `over` and a duration, found \(current.describe)")
            return nil
        }
        advance()
        guard case .duration(let micros) = current.kind else {
            error(.invalidDuration, current.range, "expected a duration such as `10m` or `24h`, found \(current.describe)")
            return nil
        }
        let durationRange = current.range
        advance()
        var filter: Expr? = nil
        if current.isWord("where") {
            advance()
            filter = expression()
        }
        return WindowDecl(
            name: name, nameRange: nameRange, aggregate: aggregate, aggregateRange: aggregateRange,
            value: value, key: key, keyRange: keyRange, duration: micros,
            durationRange: durationRange, filter: filter, range: span(from: start))
    }

    mutating func parseRule() -> RuleDecl? {
        let start = current.range
        advance()
        guard let (id, idRange) = expectIdentifier("a rule id") else { return nil }
        guard expectPunct("{", "to open the rule body") else { return nil }
        var clauses: [Clause] = []
        while !current.isPunct("}") && !atEnd {
            if let w = current.identifier, Parser.declarationKeywords.contains(w), current.range.start.column == 1 {
                break  // a missing `}`: reported below, and the next declaration still parses
            }
            let before = position
            panicking = false
            let errorsBefore = errorCount
            if let clause = parseClause() { clauses.append(clause) }
            if errorCount > errorsBefore || position == before {
                if position == before { advance() }
                while !atEnd && !current.isPunct("}") {
                    if let w = current.identifier,
                        Parser.clauseKeywords.contains(w) || (Parser.declarationKeywords.contains(w) && current.range.start.column == 1)
                    {
                        break
                    }
                    advance()
                }
            }
        }
        let closed = current.isPunct("}")
        if closed {
            advance()
        } else {
            error(.expectedToken, current.range, "expected `}` to close rule `\(id)`, found \(current.describe)")
        }
        return RuleDecl(id: id, idRange: idRange, clauses: clauses, range: span(from: start))
    }
}
