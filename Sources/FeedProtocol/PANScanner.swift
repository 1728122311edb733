/// Finds primary account numbers (card numbers) in a feed line, to refuse or replace them
/// before anything is stored, logged or sent (PCI DSS: the feed carries card tokens or
/// fingerprints, never PANs).
///
/// A PAN is a run of 13 to 19 digits inside a JSON string, optionally grouped by single
/// spaces or dashes (`4111 1111 1111 1111`, `4111-1111-1111-1111`), that passes the Luhn
/// check. One pass over the bytes with no allocation on a clean line; only runs of the
/// right length are Luhn-checked. Strings only: JSON numbers (amounts, coordinates,
/// epoch times) are not scanned. A numeric id of 13–19 digits passes Luhn one time in ten
/// and is then refused too (see docs/security.md).
public enum PANScanner {
    /// Byte ranges of the PANs in `line`, each from its first digit to its last; empty
    /// when there is none.
    public static func find(in line: UnsafeBufferPointer<UInt8>) -> [Range<Int>] {
        guard hasThirteenDigits(line) else { return [] }
        var found: [Range<Int>] = []
        var inString = false
        var escaped = false
        var runStart = -1
        var runEnd = 0
        var digits = 0
        var afterDigit = false
        for index in 0..<line.count {
            let byte = line[index]
            guard inString else {
                if byte == UInt8(ascii: "\"") { inString = true }
                continue
            }
            if escaped {
                escaped = false
            } else if byte &- UInt8(ascii: "0") < 10 {
                if runStart < 0 {
                    runStart = index
                    digits = 0
                }
                digits += 1
                runEnd = index + 1
                afterDigit = true
                continue
            } else if (byte == UInt8(ascii: " ") || byte == UInt8(ascii: "-")) && runStart >= 0 && afterDigit {
                afterDigit = false
                continue
            } else if byte == UInt8(ascii: "\\") {
                escaped = true
            } else if byte == UInt8(ascii: "\"") {
                inString = false
            }
            if runStart >= 0 {
                if digits >= 13 && digits <= 19 && luhn(line, runStart..<runEnd) { found.append(runStart..<runEnd) }
                runStart = -1
            }
            afterDigit = false
        }
        // An unterminated string (invalid JSON) still gets its last run checked.
        if runStart >= 0 && digits >= 13 && digits <= 19 && luhn(line, runStart..<runEnd) { found.append(runStart..<runEnd) }
        return found
    }

    /// The fast path: whether some run of digits (spaces and dashes allowed inside)
    /// reaches 13 digits anywhere in the line. Almost no clean line has one, and this is
    /// two comparisons a byte, so the full scan runs only on lines that may hold a PAN.
    @inline(__always)
    static func hasThirteenDigits(_ line: UnsafeBufferPointer<UInt8>) -> Bool {
        var run = 0
        for byte in line {
            if byte &- UInt8(ascii: "0") < 10 {
                run += 1
                if run == 13 { return true }
            } else if byte != UInt8(ascii: " ") && byte != UInt8(ascii: "-") {
                run = 0
            }
        }
        return false
    }

    /// Byte ranges of the PANs in `line`.
    public static func find(in line: [UInt8]) -> [Range<Int>] {
        line.withUnsafeBufferPointer { find(in: $0) }
    }

    /// Whether the digits in `range` of `bytes` (separators skipped) pass the Luhn check.
    static func luhn(_ bytes: UnsafeBufferPointer<UInt8>, _ range: Range<Int>) -> Bool {
        var sum = 0
        var double = false
        var index = range.upperBound
        while index > range.lowerBound {
            index -= 1
            let value = Int(bytes[index] &- UInt8(ascii: "0"))
            guard value < 10 else { continue }
            if double {
                let doubled = value * 2
                sum += doubled > 9 ? doubled - 9 : doubled
            } else {
                sum += value
            }
            double.toggle()
        }
        return sum % 10 == 0
    }

    /// Whether `text` (digits, spaces, dashes) is a PAN (tests and tools).
    public static func isPAN(_ text: String) -> Bool {
        let bytes = Array("\"\(text)\"".utf8)
        return find(in: bytes) == [1..<(bytes.count - 1)]
    }

    /// `line` with each PAN masked: the first 6 and last 4 digits kept (what PCI DSS
    /// allows to be shown), every other digit `*`, separators kept.
    public static func redact(_ line: [UInt8], _ ranges: [Range<Int>]) -> [UInt8] {
        var out = line
        for range in ranges {
            let total = line[range].reduce(0) { $0 + ($1 &- UInt8(ascii: "0") < 10 ? 1 : 0) }
            var seen = 0
            for index in range where line[index] &- UInt8(ascii: "0") < 10 {
                if seen >= 6 && seen < total - 4 { out[index] = UInt8(ascii: "*") }
                seen += 1
            }
        }
        return out
    }

    /// `line` with each PAN replaced by `token(digits)` (the digits without separators).
    public static func replace(_ line: [UInt8], _ ranges: [Range<Int>], with token: ([UInt8]) -> [UInt8]) -> [UInt8] {
        var out: [UInt8] = []
        out.reserveCapacity(line.count + ranges.count * 16)
        var position = 0
        for range in ranges {
            out.append(contentsOf: line[position..<range.lowerBound])
            out.append(contentsOf: token(line[range].filter { $0 &- UInt8(ascii: "0") < 10 }))
            position = range.upperBound
        }
        out.append(contentsOf: line[position...])
        return out
    }
}
