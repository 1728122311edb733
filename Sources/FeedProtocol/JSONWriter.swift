/// Appends JSON text to a byte buffer without intermediate `String`s (strings go through
/// `JSONText.appendQuoted`, the one escaper).
enum JSONWriter {
    /// Appends ASCII text that needs no escaping (member names, codes, literals).
    @inline(__always)
    static func appendRaw(_ text: StaticString, to out: inout [UInt8]) {
        out.append(contentsOf: UnsafeBufferPointer(start: text.utf8Start, count: text.utf8CodeUnitCount))
    }

    /// Appends a non-negative integer in decimal, left-padded with zeros to `width`.
    static func appendDecimal(_ value: UInt64, width: Int = 1, to out: inout [UInt8]) {
        var digits: (UInt64, Int) = (value, 0)
        var scratch:
            (
                UInt8, UInt8, UInt8, UInt8, UInt8, UInt8, UInt8, UInt8, UInt8, UInt8,
                UInt8, UInt8, UInt8, UInt8, UInt8, UInt8, UInt8, UInt8, UInt8, UInt8
            ) =
                (0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0)
        withUnsafeMutableBytes(of: &scratch) { buffer in
            repeat {
                buffer[19 - digits.1] = UInt8(ascii: "0") + UInt8(digits.0 % 10)
                digits.0 /= 10
                digits.1 += 1
            } while digits.0 > 0
            let pad = max(0, min(width, 20) - digits.1)
            for _ in 0..<pad { out.append(UInt8(ascii: "0")) }
            out.append(contentsOf: buffer[(20 - digits.1)...])
        }
    }
}
