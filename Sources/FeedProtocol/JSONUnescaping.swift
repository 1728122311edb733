/// Turns a scanned (already validated) JSON string body into its UTF-8 bytes.
enum JSONUnescaping {
    /// Four hex digits at `index` as a UTF-16 code unit, or `nil`.
    @inline(__always)
    static func hex4(_ bytes: UnsafeBufferPointer<UInt8>, at index: Int) -> UInt32? {
        guard index >= 0, bytes.count - index >= 4 else { return nil }
        var value: UInt32 = 0
        for i in index..<(index + 4) {
            let b = bytes[i]
            let digit: UInt8
            switch b {
            case UInt8(ascii: "0")...UInt8(ascii: "9"): digit = b - UInt8(ascii: "0")
            case UInt8(ascii: "a")...UInt8(ascii: "f"): digit = b - UInt8(ascii: "a") + 10
            case UInt8(ascii: "A")...UInt8(ascii: "F"): digit = b - UInt8(ascii: "A") + 10
            default: return nil
            }
            value = value << 4 | UInt32(digit)
        }
        return value
    }

    /// Unescapes `bytes[start..<end]` into `out`, returning the number of bytes written.
    ///
    /// The output is never longer than the input (`\uXXXX` is 6 bytes for at most 3,
    /// a surrogate pair 12 for 4), so `out` needs `end - start` bytes. Written
    /// defensively: a malformed escape (impossible after scanning) is copied verbatim
    /// rather than trusted.
    static func unescape(
        _ bytes: UnsafeBufferPointer<UInt8>, from start: Int, to end: Int,
        into out: UnsafeMutableBufferPointer<UInt8>
    ) -> Int {
        var i = max(0, start)
        let end = min(end, bytes.count)
        var o = 0
        @inline(__always) func put(_ b: UInt8) {
            if o < out.count {
                out[o] = b
                o += 1
            }
        }
        while i < end {
            let b = bytes[i]
            guard b == UInt8(ascii: "\\"), i + 1 < end else {
                put(b)
                i += 1
                continue
            }
            let e = bytes[i + 1]
            switch e {
            case UInt8(ascii: "b"):
                put(0x08)
                i += 2
            case UInt8(ascii: "f"):
                put(0x0C)
                i += 2
            case UInt8(ascii: "n"):
                put(0x0A)
                i += 2
            case UInt8(ascii: "r"):
                put(0x0D)
                i += 2
            case UInt8(ascii: "t"):
                put(0x09)
                i += 2
            case UInt8(ascii: "u"):
                guard i + 6 <= end, var scalar = hex4(bytes, at: i + 2) else {
                    put(b)
                    i += 1
                    continue
                }
                i += 6
                if scalar >= 0xD800, scalar <= 0xDBFF, i + 6 <= end, bytes[i] == UInt8(ascii: "\\"),
                    bytes[i + 1] == UInt8(ascii: "u"), let low = hex4(bytes, at: i + 2), low >= 0xDC00, low <= 0xDFFF
                {
                    scalar = 0x10000 + ((scalar - 0xD800) << 10) + (low - 0xDC00)
                    i += 6
                }
                if scalar >= 0xD800 && scalar <= 0xDFFF { scalar = 0xFFFD }
                encode(scalar, put)
            default:
                put(e)
                i += 2
            }
        }
        return o
    }

    @inline(__always)
    private static func encode(_ scalar: UInt32, _ put: (UInt8) -> Void) {
        switch scalar {
        case 0..<0x80:
            put(UInt8(scalar))
        case 0x80..<0x800:
            put(UInt8(0xC0 | (scalar >> 6)))
            put(UInt8(0x80 | (scalar & 0x3F)))
        case 0x800..<0x10000:
            put(UInt8(0xE0 | (scalar >> 12)))
            put(UInt8(0x80 | ((scalar >> 6) & 0x3F)))
            put(UInt8(0x80 | (scalar & 0x3F)))
        default:
            put(UInt8(0xF0 | ((scalar >> 18) & 0x07)))
            put(UInt8(0x80 | ((scalar >> 12) & 0x3F)))
            put(UInt8(0x80 | ((scalar >> 6) & 0x3F)))
            put(UInt8(0x80 | (scalar & 0x3F)))
        }
    }
}
