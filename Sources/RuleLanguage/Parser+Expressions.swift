extension Parser {
    /// Parses an expression. Precedence, loosest first: `or`, `and`, `not`, comparisons and
    /// `in`, `+ -`, `* / %`, `??`, unary `-`, primary.
    mutating func expression() -> Expr {
        if depth == 0 { operatorBudget = Parser.maxOperators }
        depth += 1
        defer { depth -= 1 }
        guard depth <= Parser.maxDepth else {
            error(
                .tooDeep, current.range, "expression nested more than \(Parser.maxDepth) levels deep",
                help: "split the condition, or remove redundant parentheses")
            // Skip the rest so the caller's recovery starts past the deep part.
            let r = current.range
            while !atEnd, current.identifier.map({ !Parser.clauseKeywords.contains($0) }) ?? true, !current.isPunct("}") { advance() }
            return Expr(.invalid, r)
        }
        return orExpr()
    }

    /// Takes one operator from the budget; on exhaustion reports once and skips the rest.
    mutating func spend() -> Bool {
        operatorBudget -= 1
        if operatorBudget >= 0 { return true }
        if operatorBudget == -1 {
            error(
                .tooDeep, current.range, "expression has more than \(Parser.maxOperators) operators",
                help: "split it into several rules or use a list with `in`")
        }
        while !atEnd, current.identifier.map({ !Parser.clauseKeywords.contains($0) }) ?? true, !current.isPunct("}") { advance() }
        return false
    }

    mutating func orExpr() -> Expr {
        var lhs = andExpr()
        while current.isWord("or") {
            guard spend() else { return Expr(.invalid, lhs.range) }
            advance()
            let rhs = andExpr()
            lhs = Expr(.binary("or", lhs, rhs), lhs.range.union(rhs.range))
        }
        return lhs
    }

    mutating func andExpr() -> Expr {
        var lhs = notExpr()
        while current.isWord("and") {
            guard spend() else { return Expr(.invalid, lhs.range) }
            advance()
            let rhs = notExpr()
            lhs = Expr(.binary("and", lhs, rhs), lhs.range.union(rhs.range))
        }
        return lhs
    }

    mutating func notExpr() -> Expr {
        if current.isWord("not") {
            let start = current.range
            advance()
            depth += 1
            defer { depth -= 1 }
            guard depth <= Parser.maxDepth else { return expression() }
            let operand = notExpr()
            return Expr(.unary("not", operand), start.union(operand.range))
        }
        return comparison()
    }

    mutating func comparison() -> Expr {
        let lhs = additive()
        for op in ["==", "!=", "<=", ">=", "<", ">"] where current.isPunct(op) {
            advance()
            let rhs = additive()
            return Expr(.binary(op, lhs, rhs), lhs.range.union(rhs.range))
        }
        if current.isWord("in") || (current.isWord("not") && tokens[min(position + 1, tokens.count - 1)].isWord("in")) {
            let negated = current.isWord("not")
            if negated { advance() }
            advance()
            let rhs = additive()
            return Expr(.membership(lhs, rhs, negated: negated), lhs.range.union(rhs.range))
        }
        if current.isPunct("=") {
            error(.expectedToken, current.range, "`=` is not a comparison", help: "write `==` to compare")
            advance()
            let rhs = additive()
            return Expr(.invalid, lhs.range.union(rhs.range))
        }
        return lhs
    }

    mutating func additive() -> Expr {
        var lhs = multiplicative()
        while current.isPunct("+") || current.isPunct("-") {
            guard spend() else { return Expr(.invalid, lhs.range) }
            let op = current.isPunct("+") ? "+" : "-"
            advance()
            let rhs = multiplicative()
            lhs = Expr(.binary(op, lhs, rhs), lhs.range.union(rhs.range))
        }
        return lhs
    }

    mutating func multiplicative() -> Expr {
        var lhs = coalesce()
        while current.isPunct("*") || current.isPunct("/") || current.isPunct("%") {
            guard spend() else { return Expr(.invalid, lhs.range) }
            let op = current.isPunct("*") ? "*" : current.isPunct("/") ? "/" : "%"
            advance()
            let rhs = coalesce()
            lhs = Expr(.binary(op, lhs, rhs), lhs.range.union(rhs.range))
        }
        return lhs
    }

    mutating func coalesce() -> Expr {
        var lhs = unary()
        while current.isPunct("??") {
            guard spend() else { return Expr(.invalid, lhs.range) }
            advance()
            let rhs = unary()
            lhs = Expr(.binary("??", lhs, rhs), lhs.range.union(rhs.range))
        }
        return lhs
    }

    mutating func unary() -> Expr {
        if current.isPunct("-") {
            let start = current.range
            advance()
            depth += 1
            defer { depth -= 1 }
            guard depth <= Parser.maxDepth else { return expression() }
            let operand = unary()
            return Expr(.unary("-", operand), start.union(operand.range))
        }
        return primary()
    }

    mutating func primary() -> Expr {
        let token = current
        switch token.kind {
        case .integer(let v):
            advance()
            return Expr(.integer(v), token.range)
        case .decimal(let v):
            advance()
            return Expr(.decimal(v), token.range)
        case .duration(let v):
            advance()
            return Expr(.duration(v), token.range)
        case .string(let s, _):
            advance()
            return Expr(.string(s), token.range)
        case .punct("("):
            advance()
            let inner = expression()
            expectPunct(")", "to close the parenthesis")
            return Expr(inner.kind, span(from: token.range))
        case .punct("["):
            guard let items = parseStringSet() else { return Expr(.invalid, token.range) }
            return Expr(.set(items), span(from: token.range))
        case .identifier(let name):
            advance()
            if name == "true" || name == "false" { return Expr(.bool(name == "true"), token.range) }
            if current.isPunct("(") {
                advance()
                var args: [Expr] = []
                while !current.isPunct(")") && !atEnd {
                    let before = position
                    args.append(expression())
                    if current.isPunct(",") { advance() } else { break }
                    if position == before { break }
                }
                expectPunct(")", "to close the argument list of `\(name)`")
                return Expr(.call(name, args), span(from: token.range))
            }
            var path = name
            while current.isPunct(".") {
                advance()
                guard let (part, _) = expectIdentifier("a name after `.`") else { return Expr(.invalid, span(from: token.range)) }
                path += "." + part
            }
            return Expr(.path(path), span(from: token.range))
        default:
            error(.expectedToken, token.range, "expected a value (field, number, string, duration or `(`), found \(token.describe)")
            if !atEnd, !token.isPunct("}"), token.identifier == nil { advance() }
            return Expr(.invalid, token.range)
        }
    }
}
