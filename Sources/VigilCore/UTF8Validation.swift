/// The one UTF-8 validator: well-formed UTF-8 per Unicode's Table 3-7 (no overlong
/// forms, no surrogates, nothing above U+10FFFF). The feed scanner checks lines with it,
/// and the store uses it to show a rejected line's bytes as readable text.
public enum UTF8Validation {
    /// The length of the well-formed sequence starting at `index`, or `nil`.
    @inlinable
    public static func sequenceLength(_ bytes: UnsafeBufferPointer<UInt8>, at index: Int) -> Int? {
        let count = bytes.count
        guard index < count else { return nil }
        let lead = bytes[index]
        func cont(_ offset: Int, _ low: UInt8 = 0x80, _ high: UInt8 = 0xBF) -> Bool {
            let i = index + offset
            return i < count && bytes[i] >= low && bytes[i] <= high
        }
        switch lead {
        case 0x00...0x7F: return 1
        case 0xC2...0xDF: return cont(1) ? 2 : nil
        case 0xE0: return cont(1, 0xA0) && cont(2) ? 3 : nil
        case 0xE1...0xEC, 0xEE...0xEF: return cont(1) && cont(2) ? 3 : nil
        case 0xED: return cont(1, 0x80, 0x9F) && cont(2) ? 3 : nil
        case 0xF0: return cont(1, 0x90) && cont(2) && cont(3) ? 4 : nil
        case 0xF1...0xF3: return cont(1) && cont(2) && cont(3) ? 4 : nil
        case 0xF4: return cont(1, 0x80, 0x8F) && cont(2) && cont(3) ? 4 : nil
        default: return nil
        }
    }

    /// The length of the well-formed sequence starting at `index` of `bytes`, or `nil`.
    @inlinable
    public static func sequenceLength(_ bytes: [UInt8], at index: Int) -> Int? {
        bytes.withUnsafeBufferPointer { sequenceLength($0, at: index) }
    }

    /// `bytes` as text an operator can read without losing anything: well-formed UTF-8
    /// kept, every other byte (and NUL, which PostgreSQL text cannot hold) written `\xNN`.
    public static func readableText(_ bytes: [UInt8]) -> String {
        var out: [UInt8] = []
        out.reserveCapacity(bytes.count)
        let hex = Array("0123456789abcdef".utf8)
        bytes.withUnsafeBufferPointer { buffer in
            var i = 0
            while i < buffer.count {
                if buffer[i] != 0, let length = sequenceLength(buffer, at: i) {
                    out.append(contentsOf: UnsafeBufferPointer(rebasing: buffer[i..<(i + length)]))
                    i += length
                } else {
                    out.append(contentsOf: [UInt8(ascii: "\\"), UInt8(ascii: "x"), hex[Int(buffer[i] >> 4)], hex[Int(buffer[i] & 0xF)]])
                    i += 1
                }
            }
        }
        return String(decoding: out, as: UTF8.self)
    }
}
