/// Textual IPv4 / IPv6 address checks, strict enough that PostgreSQL's `inet` accepts
/// everything that passes (one bad value would otherwise fail a whole COPY batch).
enum IPAddressSyntax {
    /// Whether `bytes` is a dotted-quad IPv4 address or an RFC 4291 IPv6 address
    /// (no zone index, no prefix length).
    static func isValid(_ bytes: UnsafeBufferPointer<UInt8>) -> Bool {
        guard bytes.count >= 2, bytes.count <= 45 else { return false }
        return bytes.contains(UInt8(ascii: ":")) ? isIPv6(bytes, 0, bytes.count) : isIPv4(bytes, 0, bytes.count)
    }

    /// Four decimal octets 0–255 without leading zeros (which some parsers read as octal).
    static func isIPv4(_ bytes: UnsafeBufferPointer<UInt8>, _ start: Int, _ end: Int) -> Bool {
        var octets = 0
        var value = 0
        var digits = 0
        var leadingZero = false
        var i = start
        while i <= end {
            let b: UInt8 = i < end ? bytes[i] : UInt8(ascii: ".")
            if b >= UInt8(ascii: "0") && b <= UInt8(ascii: "9") {
                if digits == 1 && leadingZero { return false }
                if digits == 0 { leadingZero = b == UInt8(ascii: "0") }
                digits += 1
                guard digits <= 3 else { return false }
                value = value * 10 + Int(b - UInt8(ascii: "0"))
            } else if b == UInt8(ascii: ".") {
                guard digits > 0, value <= 255 else { return false }
                octets += 1
                value = 0
                digits = 0
            } else {
                return false
            }
            i += 1
        }
        return octets == 4
    }

    /// Up to eight groups of 1–4 hex digits, one `::`, optionally ending in IPv4.
    static func isIPv6(_ bytes: UnsafeBufferPointer<UInt8>, _ start: Int, _ end: Int) -> Bool {
        var groups = 0
        var compressed = false
        var i = start
        if i + 1 < end, bytes[i] == UInt8(ascii: ":"), bytes[i + 1] == UInt8(ascii: ":") {
            compressed = true
            i += 2
            if i == end { return true }
        } else if i < end, bytes[i] == UInt8(ascii: ":") {
            return false
        }
        while i < end {
            // One group: hex digits up to the next ':' or the end; may be a trailing IPv4.
            var j = i
            var hasDot = false
            while j < end, bytes[j] != UInt8(ascii: ":") {
                if bytes[j] == UInt8(ascii: ".") { hasDot = true }
                j += 1
            }
            if hasDot {
                guard j == end, isIPv4(bytes, i, j) else { return false }
                groups += 2
                break
            }
            let length = j - i
            guard length >= 1, length <= 4 else { return false }
            for k in i..<j where !isHex(bytes[k]) { return false }
            groups += 1
            if j == end { break }
            // bytes[j] is ':'; a second ':' is the one allowed compression.
            if j + 1 < end, bytes[j + 1] == UInt8(ascii: ":") {
                guard !compressed else { return false }
                compressed = true
                i = j + 2
                if i == end { break }
            } else {
                guard j + 1 < end else { return false }
                i = j + 1
            }
        }
        return compressed ? groups <= 7 : groups == 8
    }

    @inline(__always)
    private static func isHex(_ b: UInt8) -> Bool {
        (b >= UInt8(ascii: "0") && b <= UInt8(ascii: "9")) || (b | 0x20 >= UInt8(ascii: "a") && b | 0x20 <= UInt8(ascii: "f"))
    }
}
