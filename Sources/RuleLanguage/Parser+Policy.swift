extension Parser {
    /// Parses `policy { review at score >= 50  block at score >= 90 }` (one threshold a
    /// line, in any order; the checker decides what is valid).
    mutating func parsePolicy() -> PolicyDecl? {
        let start = current.range
        advance()
        guard expectPunct("{", "to open the policy body") else { return nil }
        var thresholds: [PolicyThreshold] = []
        while !current.isPunct("}") && !atEnd {
            if let w = current.identifier, Parser.declarationKeywords.contains(w), current.range.start.column == 1 {
                break  // a missing `}`: reported below
            }
            let before = position
            panicking = false
            let errorsBefore = errorCount
            if let threshold = parseThreshold() { thresholds.append(threshold) }
            if errorCount > errorsBefore || position == before {
                if position == before { advance() }
                // Resynchronise at the next line's first word.
                let line = previous.range.start.line
                while !atEnd && !current.isPunct("}") && current.range.start.line == line { advance() }
            }
        }
        if current.isPunct("}") {
            advance()
        } else {
            error(.expectedToken, current.range, "expected `}` to close the policy, found \(current.describe)")
        }
        return PolicyDecl(thresholds: thresholds, keywordRange: start, range: span(from: start))
    }

    /// `OUTCOME at score >= N`.
    private mutating func parseThreshold() -> PolicyThreshold? {
        let start = current.range
        guard let (outcome, outcomeRange) = expectIdentifier("`review` or `block` to start a policy threshold") else { return nil }
        guard current.isWord("at") else {
            error(
                .expectedToken, current.range, "expected `at score >= N` after `\(outcome)`, found \(current.describe)",
                help: "write e.g. `\(outcome) at score >= 50`")
            return nil
        }
        advance()
        guard current.isWord("score") else {
            error(
                .expectedToken, current.range, "expected `score` after `at`, found \(current.describe)", help: "thresholds apply to the total score")
            return nil
        }
        advance()
        guard expectPunct(">=", "after `score` (a threshold applies from its value up)") else { return nil }
        guard case .integer(let value) = current.kind else {
            error(.expectedToken, current.range, "expected a whole number from 0 to 100 for the threshold, found \(current.describe)")
            return nil
        }
        let scoreRange = current.range
        advance()
        return PolicyThreshold(outcome: outcome, outcomeRange: outcomeRange, score: value, scoreRange: scoreRange, range: span(from: start))
    }
}
