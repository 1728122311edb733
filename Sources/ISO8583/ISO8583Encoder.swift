/// A message that cannot be packed in the dialect (a programming or configuration error
/// on our side: responses are built from fields the decoder accepted).
public struct ISO8583EncodeError: Error, Sendable, Hashable, CustomStringConvertible {
    /// The field at fault (nil for the MTI).
    public var field: Int?
    /// What is wrong.
    public var message: String

    public var description: String { "field \(field.map(String.init) ?? "MTI"): \(message)" }
}

extension ISO8583Packager {
    /// Packs `message` into one frame, length header included. Fixed `n` fields shorter than
    /// their length are padded with leading zeros and other fixed fields with trailing
    /// spaces (binary with zero bytes), as jPOS does.
    public func encode(_ message: ISO8583Message) throws(ISO8583EncodeError) -> [UInt8] {
        var out: [UInt8] = []
        out.reserveCapacity(256)
        try encode(message, into: &out)
        return out
    }

    /// Appends `message`'s frame to `out` (which is left as it was when the message cannot
    /// be packed): a connection's responses go into one buffer without a copy each.
    public func encode(_ message: ISO8583Message, into out: inout [UInt8]) throws(ISO8583EncodeError) {
        guard message.mti.count == 4, message.mti.allSatisfy({ $0 &- 0x30 < 10 }) else {
            throw ISO8583EncodeError(field: nil, message: "the MTI must be 4 ASCII digits")
        }
        let start = out.count
        for _ in 0..<headerSize { out.append(0) }
        out.append(contentsOf: message.mti)
        var (primary, extended) = message.bitmaps
        if extended != 0 { primary |= 1 << 63 }
        appendBitmap(primary, to: &out)
        if extended != 0 { appendBitmap(extended, to: &out) }
        do {
            try message.forEachField { field, value throws(ISO8583EncodeError) in try appendField(field, value, to: &out) }
        } catch {
            out.removeSubrange(start...)
            throw error
        }
        let body = out.count - start - headerSize
        guard body <= maximumBodyLength else {
            out.removeSubrange(start...)
            throw ISO8583EncodeError(field: nil, message: "the message is \(body) bytes, more than the \(lengthHeader.rawValue) header can count")
        }
        switch lengthHeader {
        case .binary2:
            out[start] = UInt8(body >> 8)
            out[start + 1] = UInt8(body & 0xFF)
        case .ascii4:
            var rest = body
            for index in (0..<4).reversed() {
                out[start + index] = UInt8(0x30 + rest % 10)
                rest /= 10
            }
        }
    }

    private static let hexDigits = Array("0123456789ABCDEF".utf8)

    private func appendBitmap(_ value: UInt64, to out: inout [UInt8]) {
        switch bitmap {
        case .hex:
            for nibble in (0..<16).reversed() { out.append(Self.hexDigits[Int((value >> UInt64(nibble * 4)) & 0xF)]) }
        case .binary:
            for byte in (0..<8).reversed() { out.append(UInt8((value >> UInt64(byte * 8)) & 0xFF)) }
        }
    }

    private func appendField(_ field: Int, _ value: ArraySlice<UInt8>, to out: inout [UInt8]) throws(ISO8583EncodeError) {
        guard let spec = spec(field) else {
            throw ISO8583EncodeError(field: field, message: "packager \"\(name)\" does not describe this field")
        }
        guard value.count <= spec.max else {
            throw ISO8583EncodeError(field: field, message: "\(value.count) long; at most \(spec.max)")
        }
        if spec.type != .b, let bad = value.first(where: { !spec.allows($0) }) {
            throw ISO8583EncodeError(field: field, message: "byte \(bad) is not allowed in a field of type \(spec.type.rawValue)")
        }
        // Padding of a short fixed field: leading zeros (n) or trailing spaces or zero bytes.
        var leading = 0
        var trailing = 0
        var pad: UInt8 = 0x20
        switch spec.length {
        case .fixed:
            let missing = spec.max - value.count
            if missing > 0 {
                switch spec.type {
                case .n: (leading, pad) = (missing, 0x30)
                case .b: (trailing, pad) = (missing, 0)
                default: trailing = missing
                }
            }
        case .llvar, .lllvar:
            let digits = spec.length.prefixDigits
            var divisor = 1
            for _ in 1..<digits { divisor *= 10 }
            var rest = value.count
            while divisor > 0 {
                out.append(UInt8(0x30 + (rest / divisor) % 10))
                rest %= divisor
                divisor /= 10
            }
        }
        if spec.type == .b && binary == .hex {
            func hex(_ byte: UInt8) {
                out.append(Self.hexDigits[Int(byte >> 4)])
                out.append(Self.hexDigits[Int(byte & 0xF)])
            }
            for _ in 0..<leading { hex(pad) }
            for byte in value { hex(byte) }
            for _ in 0..<trailing { hex(pad) }
        } else {
            for _ in 0..<leading { out.append(pad) }
            out.append(contentsOf: value)
            for _ in 0..<trailing { out.append(pad) }
        }
    }

    /// The body length a frame's header announces, from its first ``headerSize`` bytes;
    /// nil when an ASCII header is not four digits.
    public func bodyLength(header: some Collection<UInt8>) -> Int? {
        guard header.count >= headerSize else { return nil }
        var iterator = header.makeIterator()
        switch lengthHeader {
        case .binary2:
            guard let high = iterator.next(), let low = iterator.next() else { return nil }
            return Int(high) << 8 | Int(low)
        case .ascii4:
            var length = 0
            for _ in 0..<4 {
                guard let byte = iterator.next(), byte &- 0x30 < 10 else { return nil }
                length = length * 10 + Int(byte - 0x30)
            }
            return length
        }
    }
}
