import VigilCore

/// The kind of a JSON value found by ``JSONScanner``.
enum JSONKind: UInt8, Sendable {
    case string, number, bool, null, object, array
}

/// Where a scalar value sits in the line: for strings the content between the quotes.
struct JSONToken: Sendable {
    var kind: JSONKind
    var start: Int
    var end: Int
    /// The string contains backslash escapes and must be unescaped before use.
    var escaped: Bool
}

/// A syntax problem, with the byte offset where it was noticed.
enum JSONScanError: Error, Sendable {
    case syntax(offset: Int, reason: StaticString)
    case invalidUTF8(offset: Int)
    case tooDeep(offset: Int)
}

/// A purpose-built, allocation-free scanner for one flat JSON object per line.
///
/// The feed only needs the top-level members, so instead of building a tree it hands
/// out byte ranges of each member's value and skips nested containers (checking their
/// syntax, with bounded depth). It validates UTF-8 and escapes as it goes, so the
/// ranges it returns can be turned into `String`s without another check failing.
/// Every read is bounds-checked by hand: `UnsafeBufferPointer` does not check in
/// release builds, and input here is hostile.
struct JSONScanner {
    let bytes: UnsafeBufferPointer<UInt8>
    let maximumDepth: Int
    private(set) var index = 0
    private var first = true

    init(_ bytes: UnsafeBufferPointer<UInt8>, maximumDepth: Int) {
        self.bytes = bytes
        self.maximumDepth = max(1, maximumDepth)
    }

    @inline(__always)
    private func peek() -> UInt8? {
        index < bytes.count ? bytes[index] : nil
    }

    @inline(__always)
    private mutating func skipWhitespace() {
        while index < bytes.count {
            switch bytes[index] {
            case 0x20, 0x09, 0x0A, 0x0D: index += 1
            default: return
            }
        }
    }

    /// Consumes leading whitespace and the opening brace of the top-level object.
    mutating func beginObject() throws(JSONScanError) {
        skipWhitespace()
        guard peek() == UInt8(ascii: "{") else {
            throw unexpected(index == bytes.count ? "a JSON object, found an empty line" : "'{' to open the object")
        }
        index += 1
    }

    /// The next member's key, or `nil` after the closing brace.
    mutating func nextKey() throws(JSONScanError) -> JSONToken? {
        skipWhitespace()
        if first {
            first = false
            if peek() == UInt8(ascii: "}") {
                index += 1
                return nil
            }
        } else {
            switch peek() {
            case UInt8(ascii: "}"):
                index += 1
                return nil
            case UInt8(ascii: ","):
                index += 1
                skipWhitespace()
            default: throw unexpected("',' or '}' after a member")
            }
        }
        guard peek() == UInt8(ascii: "\"") else { throw unexpected("'\"' to start a member name") }
        let key = try scanString()
        skipWhitespace()
        guard peek() == UInt8(ascii: ":") else { throw unexpected("':' after a member name") }
        index += 1
        return key
    }

    /// Scans a member's value; containers are validated and skipped.
    mutating func value() throws(JSONScanError) -> JSONToken {
        try scanValue(depth: 1)
    }

    /// Checks that only whitespace follows the object.
    mutating func end() throws(JSONScanError) {
        skipWhitespace()
        guard index == bytes.count else { throw unexpected("end of line after the object") }
    }

    private func unexpected(_ reason: StaticString) -> JSONScanError {
        // A stray non-ASCII byte outside a string may itself be malformed UTF-8; say so,
        // because "invalid_utf8" tells the sender more than "invalid_json".
        if index < bytes.count, bytes[index] >= 0x80, UTF8Validation.sequenceLength(bytes, at: index) == nil {
            return .invalidUTF8(offset: index)
        }
        return .syntax(offset: index, reason: reason)
    }

    private mutating func scanValue(depth: Int) throws(JSONScanError) -> JSONToken {
        skipWhitespace()
        let start = index
        guard let byte = peek() else { throw unexpected("a value") }
        switch byte {
        case UInt8(ascii: "\""):
            return try scanString()
        case UInt8(ascii: "-"), UInt8(ascii: "0")...UInt8(ascii: "9"):
            try scanNumber()
            return JSONToken(kind: .number, start: start, end: index, escaped: false)
        case UInt8(ascii: "t"):
            try literal("true")
            return JSONToken(kind: .bool, start: start, end: index, escaped: false)
        case UInt8(ascii: "f"):
            try literal("false")
            return JSONToken(kind: .bool, start: start, end: index, escaped: false)
        case UInt8(ascii: "n"):
            try literal("null")
            return JSONToken(kind: .null, start: start, end: index, escaped: false)
        case UInt8(ascii: "{"):
            try skipContainer(depth: depth + 1, close: UInt8(ascii: "}"), keyed: true)
            return JSONToken(kind: .object, start: start, end: index, escaped: false)
        case UInt8(ascii: "["):
            try skipContainer(depth: depth + 1, close: UInt8(ascii: "]"), keyed: false)
            return JSONToken(kind: .array, start: start, end: index, escaped: false)
        default:
            throw unexpected("a value")
        }
    }

    /// Skips a nested object or array; recursion is bounded by `maximumDepth`.
    private mutating func skipContainer(depth: Int, close: UInt8, keyed: Bool) throws(JSONScanError) {
        guard depth <= maximumDepth else { throw .tooDeep(offset: index) }
        index += 1
        skipWhitespace()
        if peek() == close {
            index += 1
            return
        }
        while true {
            skipWhitespace()
            if keyed {
                guard peek() == UInt8(ascii: "\"") else { throw unexpected("'\"' to start a member name") }
                _ = try scanString()
                skipWhitespace()
                guard peek() == UInt8(ascii: ":") else { throw unexpected("':' after a member name") }
                index += 1
            }
            _ = try scanValue(depth: depth)
            skipWhitespace()
            guard let byte = peek() else { throw unexpected("',' or a closing bracket") }
            index += 1
            if byte == close { return }
            guard byte == UInt8(ascii: ",") else {
                index -= 1
                throw unexpected("',' or a closing bracket")
            }
        }
    }

    private mutating func literal(_ word: StaticString) throws(JSONScanError) {
        let count = word.utf8CodeUnitCount
        guard bytes.count - index >= count else { throw unexpected("true, false or null") }
        let expected = UnsafeBufferPointer(start: word.utf8Start, count: count)
        for offset in 0..<count where bytes[index + offset] != expected[offset] {
            throw unexpected("true, false or null")
        }
        index += count
    }

    /// `-? (0 | [1-9][0-9]*) (. [0-9]+)? ([eE] [+-]? [0-9]+)?`
    private mutating func scanNumber() throws(JSONScanError) {
        if peek() == UInt8(ascii: "-") { index += 1 }
        guard let lead = peek(), isDigit(lead) else { throw unexpected("a digit") }
        index += 1
        if lead != UInt8(ascii: "0") { skipDigits() }
        if peek() == UInt8(ascii: ".") {
            index += 1
            guard let d = peek(), isDigit(d) else { throw unexpected("a digit after '.'") }
            skipDigits()
        }
        if let e = peek(), e == UInt8(ascii: "e") || e == UInt8(ascii: "E") {
            index += 1
            if let sign = peek(), sign == UInt8(ascii: "+") || sign == UInt8(ascii: "-") { index += 1 }
            guard let d = peek(), isDigit(d) else { throw unexpected("a digit in the exponent") }
            skipDigits()
        }
    }

    @inline(__always)
    private func isDigit(_ b: UInt8) -> Bool { b &- UInt8(ascii: "0") < 10 }

    @inline(__always)
    private mutating func skipDigits() {
        while index < bytes.count, isDigit(bytes[index]) { index += 1 }
    }

    /// Scans a string starting at its opening quote; returns the content range.
    private mutating func scanString() throws(JSONScanError) -> JSONToken {
        index += 1
        let start = index
        var escaped = false
        while index < bytes.count {
            let byte = bytes[index]
            if byte == UInt8(ascii: "\"") {
                let token = JSONToken(kind: .string, start: start, end: index, escaped: escaped)
                index += 1
                return token
            } else if byte == UInt8(ascii: "\\") {
                escaped = true
                try scanEscape()
            } else if byte < 0x20 {
                throw .syntax(offset: index, reason: "no raw control characters inside a string (escape them)")
            } else if byte < 0x80 {
                index += 1
            } else {
                guard let length = UTF8Validation.sequenceLength(bytes, at: index) else {
                    throw .invalidUTF8(offset: index)
                }
                index += length
            }
        }
        throw .syntax(offset: index, reason: "a closing '\"' before the end of the line")
    }

    /// Validates one escape at `index` (a backslash), including surrogate pairing.
    private mutating func scanEscape() throws(JSONScanError) {
        guard index + 1 < bytes.count else { throw .syntax(offset: index, reason: "an escape after '\\'") }
        switch bytes[index + 1] {
        case UInt8(ascii: "\""), UInt8(ascii: "\\"), UInt8(ascii: "/"),
            UInt8(ascii: "b"), UInt8(ascii: "f"), UInt8(ascii: "n"), UInt8(ascii: "r"), UInt8(ascii: "t"):
            index += 2
        case UInt8(ascii: "u"):
            guard let unit = JSONUnescaping.hex4(bytes, at: index + 2) else {
                throw .syntax(offset: index, reason: "four hex digits after '\\u'")
            }
            index += 6
            if unit >= 0xDC00 && unit <= 0xDFFF {
                throw .syntax(offset: index - 6, reason: "a high surrogate before a low surrogate escape")
            }
            if unit >= 0xD800 && unit <= 0xDBFF {
                guard index + 1 < bytes.count, bytes[index] == UInt8(ascii: "\\"), bytes[index + 1] == UInt8(ascii: "u"),
                    let low = JSONUnescaping.hex4(bytes, at: index + 2), low >= 0xDC00, low <= 0xDFFF
                else {
                    throw .syntax(offset: index, reason: "a low surrogate escape after a high surrogate")
                }
                index += 6
            }
        default:
            throw .syntax(offset: index, reason: "a valid escape (\\\" \\\\ \\/ \\b \\f \\n \\r \\t \\uXXXX)")
        }
    }
}
