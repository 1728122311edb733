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
        var out: [UInt8] = [0, 0, 0, 0].prefix(headerSize).map { $0 }
        out.reserveCapacity(256)
        guard message.mti.count == 4, message.mti.allSatisfy({ $0 &- 0x30 < 10 }) else {
            throw ISO8583EncodeError(field: nil, message: "the MTI must be 4 ASCII digits")
        }
        out.append(contentsOf: message.mti)
        let secondary = message.needsSecondaryBitmap
        var primary: UInt64 = secondary ? 1 << 63 : 0
        var extended: UInt64 = 0
        for field in message.presentFields {
            if field <= 64 { primary |= 1 << UInt64(64 - field) } else { extended |= 1 << UInt64(128 - field) }
        }
        appendBitmap(primary, to: &out)
        if secondary { appendBitmap(extended, to: &out) }
        for field in message.presentFields {
            guard let value = message[field] else { continue }
            try appendField(field, value, to: &out)
        }
        let body = out.count - headerSize
        guard body <= maximumBodyLength else {
            throw ISO8583EncodeError(field: nil, message: "the message is \(body) bytes, more than the \(lengthHeader.rawValue) header can count")
        }
        switch lengthHeader {
        case .binary2:
            out[0] = UInt8(body >> 8)
            out[1] = UInt8(body & 0xFF)
        case .ascii4:
            var rest = body
            for index in (0..<4).reversed() {
                out[index] = UInt8(0x30 + rest % 10)
                rest /= 10
            }
        }
        return out
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

    private func appendField(_ field: Int, _ value: [UInt8], to out: inout [UInt8]) throws(ISO8583EncodeError) {
        guard let spec = spec(field) else {
            throw ISO8583EncodeError(field: field, message: "packager \"\(name)\" does not describe this field")
        }
        guard value.count <= spec.max else {
            throw ISO8583EncodeError(field: field, message: "\(value.count) long; at most \(spec.max)")
        }
        if spec.type != .b, let bad = value.first(where: { !spec.allows($0) }) {
            throw ISO8583EncodeError(field: field, message: "byte \(bad) is not allowed in a field of type \(spec.type.rawValue)")
        }
        var content = value
        switch spec.length {
        case .fixed:
            let missing = spec.max - value.count
            if missing > 0 {
                switch spec.type {
                case .n: content = [UInt8](repeating: 0x30, count: missing) + value
                case .b: content = value + [UInt8](repeating: 0, count: missing)
                default: content = value + [UInt8](repeating: 0x20, count: missing)
                }
            }
        case .llvar, .lllvar:
            let digits = spec.length.prefixDigits
            var prefix = [UInt8](repeating: 0x30, count: digits)
            var rest = value.count
            for index in (0..<digits).reversed() {
                prefix[index] = UInt8(0x30 + rest % 10)
                rest /= 10
            }
            out.append(contentsOf: prefix)
        }
        if spec.type == .b && binary == .hex {
            for byte in content {
                out.append(Self.hexDigits[Int(byte >> 4)])
                out.append(Self.hexDigits[Int(byte & 0xF)])
            }
        } else {
            out.append(contentsOf: content)
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
