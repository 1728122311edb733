/// A validator for the JSON embedded in webhook bodies (strings are escaped by
/// `JSONText`, the one escaper).
enum WebhookJSON {
    /// Whether `text` is exactly one JSON object (RFC 8259 grammar, depth-limited).
    static func isObject(_ text: String) -> Bool {
        var validator = Validator(bytes: Array(text.utf8))
        validator.skipSpace()
        guard validator.peek == UInt8(ascii: "{"), validator.value(depth: 0) else { return false }
        validator.skipSpace()
        return validator.index == validator.bytes.count
    }

    private struct Validator {
        let bytes: [UInt8]
        var index = 0
        static let maxDepth = 64

        var peek: UInt8? { index < bytes.count ? bytes[index] : nil }

        mutating func skipSpace() {
            while let c = peek, c == 0x20 || c == 0x0A || c == 0x0D || c == 0x09 { index += 1 }
        }

        mutating func literal(_ word: String) -> Bool {
            for c in word.utf8 {
                guard peek == c else { return false }
                index += 1
            }
            return true
        }

        mutating func value(depth: Int) -> Bool {
            guard depth < Self.maxDepth else { return false }
            skipSpace()
            switch peek {
            case UInt8(ascii: "{"): return container(close: UInt8(ascii: "}"), keyed: true, depth: depth)
            case UInt8(ascii: "["): return container(close: UInt8(ascii: "]"), keyed: false, depth: depth)
            case UInt8(ascii: "\""): return string()
            case UInt8(ascii: "t"): return literal("true")
            case UInt8(ascii: "f"): return literal("false")
            case UInt8(ascii: "n"): return literal("null")
            default: return number()
            }
        }

        mutating func container(close: UInt8, keyed: Bool, depth: Int) -> Bool {
            index += 1
            skipSpace()
            if peek == close {
                index += 1
                return true
            }
            while true {
                if keyed {
                    skipSpace()
                    guard peek == UInt8(ascii: "\""), string() else { return false }
                    skipSpace()
                    guard peek == UInt8(ascii: ":") else { return false }
                    index += 1
                }
                guard value(depth: depth + 1) else { return false }
                skipSpace()
                if peek == UInt8(ascii: ",") {
                    index += 1
                    continue
                }
                if peek == close {
                    index += 1
                    return true
                }
                return false
            }
        }

        mutating func string() -> Bool {
            index += 1
            while let c = peek {
                index += 1
                if c == UInt8(ascii: "\"") { return true }
                if c < 0x20 { return false }
                if c == UInt8(ascii: "\\") {
                    guard let e = peek else { return false }
                    index += 1
                    if e == UInt8(ascii: "u") {
                        for _ in 0..<4 {
                            guard let h = peek, (h >= 48 && h <= 57) || (h >= 65 && h <= 70) || (h >= 97 && h <= 102) else { return false }
                            index += 1
                        }
                    } else if !"\"\\/bfnrt".utf8.contains(e) {
                        return false
                    }
                }
            }
            return false
        }

        mutating func number() -> Bool {
            let start = index
            if peek == UInt8(ascii: "-") { index += 1 }
            guard let first = peek, first >= 48, first <= 57 else { return false }
            if first == 48 { index += 1 } else { digits() }
            if peek == UInt8(ascii: ".") {
                index += 1
                guard digits() else { return false }
            }
            if peek == UInt8(ascii: "e") || peek == UInt8(ascii: "E") {
                index += 1
                if peek == UInt8(ascii: "+") || peek == UInt8(ascii: "-") { index += 1 }
                guard digits() else { return false }
            }
            return index > start
        }

        @discardableResult
        mutating func digits() -> Bool {
            let start = index
            while let c = peek, c >= 48, c <= 57 { index += 1 }
            return index > start
        }
    }
}
