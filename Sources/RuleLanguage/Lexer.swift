/// Turns a rules file into tokens. Never traps: every malformed input becomes a diagnostic
/// and the lexer moves on, so one bad character does not hide the errors after it.
public struct Lexer {
    private let scalars: [Unicode.Scalar]
    private let file: String
    private var index = 0
    private var line = 1
    private var column = 1
    private var lineHasCode = false
    /// Line and column where the scalar at each line's start sits, to map offsets back.
    private(set) public var diagnostics: [Diagnostic] = []
    /// Comments found, in order.
    private(set) public var comments: [Comment] = []

    /// Creates a lexer over `text`; `file` names it in diagnostics. `line`/`column` let a
    /// caller lex a fragment (a reason interpolation) at its position in the file.
    public init(text: String, file: String, line: Int = 1, column: Int = 1) {
        self.scalars = Array(text.unicodeScalars)
        self.file = file
        self.line = line
        self.column = column
    }

    /// Lexes the whole input; the last token is always `.endOfFile`.
    public mutating func tokenize() -> [Token] {
        var tokens: [Token] = []
        while true {
            let token = next()
            tokens.append(token)
            if case .endOfFile = token.kind { return tokens }
        }
    }

    private var here: SourceLocation { SourceLocation(line: line, column: column) }

    private func peek(_ ahead: Int = 0) -> Unicode.Scalar? {
        let i = index + ahead
        return i < scalars.count ? scalars[i] : nil
    }

    private mutating func advance() {
        guard index < scalars.count else { return }
        if scalars[index] == "\n" {
            line += 1
            column = 1
            lineHasCode = false
        } else {
            column += 1
        }
        index += 1
    }

    private func range(from start: SourceLocation) -> SourceRange {
        SourceRange(file: file, start: start, end: here)
    }

    private mutating func next() -> Token {
        skipTrivia()
        let start = here
        let offset = index
        guard let c = peek() else {
            return Token(kind: .endOfFile, range: range(from: start), offset: offset)
        }
        lineHasCode = true
        if c.properties.isAlphabetic && c.isASCII || c == "_" {
            var name = ""
            while let d = peek(), d.isASCII, d.properties.isAlphabetic || d == "_" || ("0"..."9").contains(d) {
                name.unicodeScalars.append(d)
                advance()
            }
            return Token(kind: .identifier(name), range: range(from: start), offset: offset)
        }
        if ("0"..."9").contains(c) {
            return number(start: start, offset: offset)
        }
        if c == "\"" {
            return string(start: start, offset: offset)
        }
        for p in ["==", "!=", "<=", ">=", "??"] {
            let chars = Array(p.unicodeScalars)
            if peek() == chars[0] && peek(1) == chars[1] {
                advance()
                advance()
                return Token(kind: .punct(p), range: range(from: start), offset: offset)
            }
        }
        if "()[]{},.=<>+-*/%:".unicodeScalars.contains(c) {
            advance()
            return Token(kind: .punct(String(c)), range: range(from: start), offset: offset)
        }
        advance()
        // A run of the same stray character (`&&`, `||`) is one mistake.
        var text = String(c)
        while let d = peek(), d == c {
            text.unicodeScalars.append(d)
            advance()
        }
        diagnostics.append(
            Diagnostic(
                .unexpectedCharacter, range(from: start),
                "unexpected `\(text.unicodeScalars.map { $0.escaped(asASCII: false) }.joined())`",
                help: c == "&" || c == "|" || c == "!" ? "write `and`, `or` and `not` as words" : nil))
        return next()
    }

    private mutating func skipTrivia() {
        while let c = peek() {
            if c == " " || c == "\t" || c == "\n" || c == "\r" {
                advance()
            } else if c == "#" {
                let commentLine = line
                let trailing = lineHasCode
                advance()
                var text = ""
                while let d = peek(), d != "\n" {
                    text.unicodeScalars.append(d)
                    advance()
                }
                while text.last == " " || text.last == "\r" || text.last == "\t" { text.removeLast() }
                comments.append(Comment(line: commentLine, text: text, trailing: trailing))
            } else {
                return
            }
        }
    }

    private mutating func number(start: SourceLocation, offset: Int) -> Token {
        var digits = ""
        var fraction: String? = nil
        while let d = peek(), ("0"..."9").contains(d) || d == "_" {
            if d != "_" { digits.unicodeScalars.append(d) }
            advance()
        }
        if peek() == ".", let after = peek(1), ("0"..."9").contains(after) {
            advance()
            var f = ""
            while let d = peek(), ("0"..."9").contains(d) || d == "_" {
                if d != "_" { f.unicodeScalars.append(d) }
                advance()
            }
            fraction = f
        }
        var unit = ""
        while let d = peek(), d.isASCII, d.properties.isAlphabetic || ("0"..."9").contains(d) {
            unit.unicodeScalars.append(d)
            advance()
        }
        let r = range(from: start)
        if !unit.isEmpty {
            let perUnit: Int64? =
                switch unit {
                case "ms": 1_000
                case "s": 1_000_000
                case "m": 60_000_000
                case "h": 3_600_000_000
                case "d": 86_400_000_000
                case "w": 604_800_000_000
                default: nil
                }
            guard fraction == nil, let perUnit, let count = Int64(digits) else {
                diagnostics.append(
                    Diagnostic(
                        .invalidDuration, r,
                        "invalid duration `\(digits)\(fraction.map { "." + $0 } ?? "")\(unit)`",
                        help: "a duration is a whole number followed by ms, s, m, h, d or w, e.g. `10m`, `24h`, `30d`"))
                return Token(kind: .duration(0), range: r, offset: offset)
            }
            let (micros, overflow) = count.multipliedReportingOverflow(by: perUnit)
            if overflow {
                diagnostics.append(Diagnostic(.invalidDuration, r, "duration `\(digits)\(unit)` is too long"))
                return Token(kind: .duration(0), range: r, offset: offset)
            }
            return Token(kind: .duration(micros), range: r, offset: offset)
        }
        if let fraction {
            guard let value = DecimalValue(parsing: digits + "." + fraction) else {
                diagnostics.append(
                    Diagnostic(
                        .invalidNumber, r,
                        "number `\(digits).\(fraction)` is out of range or has more than \(DecimalValue.fractionDigits) decimals"))
                return Token(kind: .decimal(.zero), range: r, offset: offset)
            }
            return Token(kind: .decimal(value), range: r, offset: offset)
        }
        guard let value = Int64(digits) else {
            diagnostics.append(Diagnostic(.invalidNumber, r, "number `\(digits)` is too large"))
            return Token(kind: .integer(0), range: r, offset: offset)
        }
        return Token(kind: .integer(value), range: r, offset: offset)
    }

    private mutating func string(start: SourceLocation, offset: Int) -> Token {
        advance()
        var value = ""
        var raw = ""
        while let c = peek() {
            if c == "\"" {
                advance()
                return Token(kind: .string(value, raw: raw), range: range(from: start), offset: offset)
            }
            if c == "\n" { break }
            if c == "\\" {
                let escStart = here
                advance()
                guard let e = peek(), e != "\n" else { break }
                advance()
                raw.unicodeScalars.append("\\")
                raw.unicodeScalars.append(e)
                switch e {
                case "n": value += "\n"
                case "t": value += "\t"
                case "\"", "\\": value.unicodeScalars.append(e)
                // Kept escaped: templates and regexes give these their own meaning.
                case "{", "}", ".", "d", "w", "s", "b", "(", ")", "[", "]", "+", "*", "?", "|", "^", "$", "D", "W", "S":
                    value.unicodeScalars.append("\\")
                    value.unicodeScalars.append(e)
                default:
                    diagnostics.append(
                        Diagnostic(
                            .invalidEscape, range(from: escStart),
                            "unknown escape `\\\(e)` in string", help: "use `\\\\` for a backslash"))
                }
                continue
            }
            value.unicodeScalars.append(c)
            raw.unicodeScalars.append(c)
            advance()
        }
        let r = range(from: start)
        diagnostics.append(
            Diagnostic(
                .unterminatedString, r, "unterminated string",
                help: "close the string with `\"` before the end of the line"))
        return Token(kind: .string(value, raw: raw), range: r, offset: offset)
    }
}
