/// Canonical formatting of rules files (`vigil rules fmt`): stable and idempotent.
///
/// One blank line between declarations, two-space indentation, clauses in a fixed order,
/// minimal parentheses, long `and`/`or` chains one operand per line. Comments are kept:
/// each stays before (or at the end of the line of) the declaration or clause it preceded.
public enum RuleFormatter {
    /// Formats a file; nil when the file does not parse (formatting never guesses).
    public static func format(_ source: SourceFile) -> String? {
        let parsed = Parser.parse(source)
        guard !parsed.diagnostics.containsErrors else { return nil }
        var printer = Printer(comments: parsed.comments)
        for (i, decl) in parsed.declarations.enumerated() {
            // Consecutive lists (or windows) stay together; anything else gets a blank line.
            if i > 0 {
                switch (parsed.declarations[i - 1], decl) {
                case (.list, .list), (.window(_), .window(_)): break
                default: printer.out += "\n"
                }
            }
            switch decl {
            case .list(let d):
                printer.item(line: d.range.start.line, endLine: d.range.end.line, indent: "", text: list(d))
            case .window(let d):
                printer.item(line: d.range.start.line, endLine: d.range.end.line, indent: "", text: window(d))
            case .rule(let d):
                printer.item(line: d.range.start.line, endLine: d.idRange.end.line, indent: "", text: "rule \(d.id) {")
                for clause in sortedClauses(d.clauses) {
                    printer.item(line: clause.range.start.line, endLine: clause.range.end.line, indent: "  ", text: self.clause(clause))
                }
                printer.item(line: d.range.end.line, endLine: d.range.end.line, indent: "", text: "}", trailingOnly: true)
            case .policy(let d):
                printer.item(line: d.range.start.line, endLine: d.keywordRange.end.line, indent: "", text: "policy {")
                for t in d.thresholds {
                    printer.item(line: t.range.start.line, endLine: t.range.end.line, indent: "  ", text: "\(t.outcome) at score >= \(t.score)")
                }
                printer.item(line: d.range.end.line, endLine: d.range.end.line, indent: "", text: "}", trailingOnly: true)
            }
        }
        printer.flushRemaining()
        return printer.out
    }

    static let clauseOrder = ["action", "description", "require", "when", "severity", "score", "mode", "on_error", "tags", "reason"]

    static func sortedClauses(_ clauses: [Clause]) -> [Clause] {
        clauses.enumerated().sorted {
            let a = clauseOrder.firstIndex(of: $0.element.keyword) ?? 99
            let b = clauseOrder.firstIndex(of: $1.element.keyword) ?? 99
            return (a, $0.offset) < (b, $1.offset)
        }.map(\.element)
    }

    static func list(_ d: ListDecl) -> String {
        switch d.source {
        case .inline(let items): "list \(d.name) = \(set(items))"
        case .file(let path): "list \(d.name) = file \(quote(path))"
        case .table(let t): t == d.name ? "list \(d.name) = table" : "list \(d.name) = table \(quote(t))"
        }
    }

    static func window(_ d: WindowDecl) -> String {
        var s = "window \(d.name) = \(d.aggregate)"
        if let v = d.value { s += " " + expression(v) }
        s += " by \(d.key) over \(Value.formatDuration(d.duration))"
        if let f = d.filter {
            let filter = "where " + expression(f)
            s += s.count + filter.count > 88 ? "\n  " + filter : " " + filter
        }
        return s
    }

    static func clause(_ c: Clause) -> String {
        switch c.kind {
        case .description(let s): return "description \(quote(s))"
        case .reason(let s): return "reason \(quote(s))"
        case .severity(let w): return "severity \(w)"
        case .mode(let w): return "mode \(w)"
        case .onError(let w): return "on_error \(w)"
        case .action(let w): return "action \(w)"
        case .score(let v): return "score \(v)"
        case .tags(let t): return "tags \(set(t))"
        case .require(let paths): return "require " + paths.map(expression).joined(separator: ", ")
        case .when(let e):
            let one = "when " + expression(e)
            guard one.count > 88, case .binary(let op, _, _) = e.kind, op == "and" || op == "or" else { return one }
            let operands = flatten(e, op)
            return "when "
                + operands.map { expression($0, parent: precedence(op) + 1) }
                .joined(separator: "\n  \(op) ")
        }
    }

    static func flatten(_ e: Expr, _ op: String) -> [Expr] {
        if case .binary(let o, let a, let b) = e.kind, o == op { return flatten(a, op) + flatten(b, op) }
        return [e]
    }

    static func set(_ items: [String]) -> String {
        "[" + items.map(quote).joined(separator: ", ") + "]"
    }

    /// Quotes a string so that lexing it again gives the same value.
    static func quote(_ s: String) -> String {
        let kept: Set<Unicode.Scalar> = ["{", "}", ".", "d", "w", "s", "b", "(", ")", "[", "]", "+", "*", "?", "|", "^", "$", "D", "W", "S"]
        var out = "\""
        let scalars = Array(s.unicodeScalars)
        for (i, c) in scalars.enumerated() {
            switch c {
            case "\"": out += "\\\""
            case "\n": out += "\\n"
            case "\t": out += "\\t"
            case "\\":
                if i + 1 < scalars.count, kept.contains(scalars[i + 1]) { out += "\\" } else { out += "\\\\" }
            default: out.unicodeScalars.append(c)
            }
        }
        return out + "\""
    }

    static func precedence(_ op: String) -> Int {
        switch op {
        case "or": 1
        case "and": 2
        case "not": 3
        case "==", "!=", "<", "<=", ">", ">=", "in": 4
        case "+", "-": 5
        case "*", "/", "%": 6
        case "??": 7
        default: 9
        }
    }

    /// An expression with the fewest parentheses that keep its meaning.
    public static func expression(_ e: Expr) -> String { expression(e, parent: 0) }

    static func expression(_ e: Expr, parent: Int) -> String {
        let (text, prec) = render(e)
        return prec < parent ? "(\(text))" : text
    }

    static func render(_ e: Expr) -> (String, Int) {
        switch e.kind {
        case .integer(let v): return (String(v), 10)
        case .decimal(let v):
            // At least two decimals, so money reads as money: `10.00`, `0.50`, `0.025`.
            var s = v.description
            if let dot = s.firstIndex(of: ".") {
                if s.distance(from: dot, to: s.endIndex) == 2 { s += "0" }
            } else {
                s += ".00"
            }
            return (s, 10)
        case .string(let s): return (quote(s), 10)
        case .duration(let d): return (Value.formatDuration(d), 10)
        case .bool(let b): return (b ? "true" : "false", 10)
        case .path(let p): return (p, 10)
        case .set(let items): return (set(items), 10)
        case .invalid: return ("<invalid>", 10)
        case .call(let name, let args): return ("\(name)(" + args.map { expression($0) }.joined(separator: ", ") + ")", 10)
        case .unary("not", let a): return ("not " + expression(a, parent: 3), 3)
        case .unary(let op, let a): return (op + expression(a, parent: 8), 8)
        case .membership(let a, let b, let negated):
            return (expression(a, parent: 5) + (negated ? " not in " : " in ") + expression(b, parent: 5), 4)
        case .binary("??", let a, let b):
            // `??` binds tightest, but readers expect it loose: parenthesise it wherever it is
            // an operand (`(country ?? "") in countries`), which parses back the same.
            return ("\(expression(a, parent: 8)) ?? \(expression(b, parent: 8))", 4)
        case .binary(let op, let a, let b):
            let p = precedence(op)
            let comparison = p == 4
            // Left-associative: the right operand needs parentheses at equal precedence.
            let l = expression(a, parent: comparison ? p + 1 : p)
            let r = expression(b, parent: p + 1)
            return ("\(l) \(op) \(r)", p)
        }
    }
}

/// Emits formatted items with the comments that belong before or after them.
struct Printer {
    var comments: [Comment]
    var next = 0
    var out = ""

    mutating func item(line: Int, endLine: Int, indent: String, text: String, trailingOnly: Bool = false) {
        // Comments on their own lines before this item's last line move before it.
        while next < comments.count, comments[next].line < endLine || (comments[next].line == endLine && !comments[next].trailing) {
            out += indent + "#" + comments[next].text + "\n"
            // Keep one blank line where the source separated a comment from what follows.
            let following = next + 1 < comments.count ? min(comments[next + 1].line, line) : line
            if following > comments[next].line + 1 { out += "\n" }
            next += 1
        }
        var body = text.split(separator: "\n", omittingEmptySubsequences: false).map { indent + $0 }.joined(separator: "\n")
        if next < comments.count, comments[next].line == endLine, comments[next].trailing {
            body += "  #" + comments[next].text
            next += 1
        }
        out += body + "\n"
        _ = trailingOnly
    }

    mutating func flushRemaining() {
        if next < comments.count, !out.isEmpty { out += "\n" }
        while next < comments.count {
            out += "#" + comments[next].text + "\n"
            next += 1
        }
    }
}
