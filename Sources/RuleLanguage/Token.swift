/// A lexical token of the rules language.
public struct Token: Sendable, Hashable {
    /// What kind of token this is.
    public enum Kind: Sendable, Hashable {
        case identifier(String)
        case integer(Int64)
        /// A decimal literal, already scaled to `DecimalValue`.
        case decimal(DecimalValue)
        /// A duration literal in microseconds, e.g. `10m`.
        case duration(Int64)
        /// A string literal with escapes resolved; `raw` keeps the text between the quotes.
        case string(String, raw: String)
        case punct(String)
        case endOfFile
    }

    /// The token's kind and payload.
    public var kind: Kind
    /// Where it is.
    public var range: SourceRange
    /// Offset of its first character in the file's unicode scalars.
    public var offset: Int

    /// The identifier's text, if this is an identifier.
    public var identifier: String? {
        if case .identifier(let name) = kind { return name }
        return nil
    }

    /// Whether the token is the given punctuation.
    public func isPunct(_ p: String) -> Bool {
        if case .punct(let q) = kind { return p == q }
        return false
    }

    /// Whether the token is the given word (identifiers double as keywords in context).
    public func isWord(_ w: String) -> Bool {
        if case .identifier(let name) = kind { return name == w }
        return false
    }

    /// A short description for "expected X, found Y" messages.
    public var describe: String {
        switch kind {
        case .identifier(let n): "`\(n)`"
        case .integer(let v): "number `\(v)`"
        case .decimal(let v): "number `\(v)`"
        case .duration: "duration"
        case .string: "string"
        case .punct(let p): "`\(p)`"
        case .endOfFile: "end of file"
        }
    }
}

/// A `#` comment kept by the lexer so that `vigil rules fmt` can put it back.
public struct Comment: Sendable, Hashable {
    /// The line the comment is on.
    public var line: Int
    /// The text after `#`, trimmed on the right.
    public var text: String
    /// Whether code precedes the comment on its line.
    public var trailing: Bool
}
