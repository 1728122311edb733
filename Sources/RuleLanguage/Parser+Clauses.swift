extension Parser {
    /// Parses one clause of a rule body.
    mutating func parseClause() -> Clause? {
        let start = current.range
        guard let keyword = current.identifier, Parser.clauseKeywords.contains(keyword) else {
            let found = current.identifier
            let suggestion = found.flatMap { Suggest.closest(to: $0, in: Parser.clauseKeywords) }
            error(
                .unknownClause, current.range,
                "expected a rule clause (when, severity, score, reason, mode, tags, on_error, require, action, description), found \(current.describe)",
                help: suggestion.map { "did you mean `\($0)`?" })
            return nil
        }
        advance()
        let valueStart = current.range
        let kind: ClauseKind
        switch keyword {
        case "description":
            guard let (s, _) = expectString("the description") else { return nil }
            kind = .description(s)
        case "reason":
            guard let (s, _) = expectString("the reason template") else { return nil }
            kind = .reason(s)
        case "when":
            kind = .when(expression())
        case "severity", "mode", "on_error", "action":
            guard let (word, _) = expectIdentifier("a value for `\(keyword)`") else { return nil }
            switch keyword {
            case "severity": kind = .severity(word)
            case "mode": kind = .mode(word)
            case "action": kind = .action(word)
            default: kind = .onError(word)
            }
        case "score":
            guard case .integer(let v) = current.kind else {
                error(.expectedToken, current.range, "expected a whole number from 0 to 100 for `score`, found \(current.describe)")
                return nil
            }
            advance()
            kind = .score(v)
        case "tags":
            guard let items = parseStringSet() else { return nil }
            kind = .tags(items)
        default:  // require
            var paths: [Expr] = []
            repeat {
                if !paths.isEmpty { advance() }
                let s = current.range
                guard let (first, _) = expectIdentifier("a field name") else { return nil }
                var name = first
                while current.isPunct(".") {
                    advance()
                    guard let (part, _) = expectIdentifier("a name after `.`") else { return nil }
                    name += "." + part
                }
                paths.append(Expr(.path(name), span(from: s)))
            } while current.isPunct(",")
            kind = .require(paths)
        }
        return Clause(keyword: keyword, kind: kind, range: span(from: start), valueRange: span(from: valueStart))
    }
}
