extension ISO8583Packager {
    /// Where field `number`'s content lies in `body` (a message without its length header),
    /// found by walking the bitmaps and the lengths of the fields before it without copying
    /// or checking them; nil when the field is absent or the message cannot be walked that far.
    ///
    /// For a reader that wants one field of many messages (the bench client classifies each
    /// response by field 39) and trusts the sender; ``ISO8583Decoder`` is the checking reader.
    public func locate(field number: Int, in body: ArraySlice<UInt8>) -> Range<Int>? {
        guard number >= 2, number <= 128 else { return nil }
        var position = body.startIndex + 4
        func readBitmap() -> UInt64? {
            var value: UInt64 = 0
            switch bitmap {
            case .hex:
                guard position + 16 <= body.endIndex else { return nil }
                for byte in body[position..<position + 16] {
                    let digit: UInt8
                    switch byte {
                    case 0x30...0x39: digit = byte - 0x30
                    case 0x41...0x46: digit = byte - 0x41 + 10
                    case 0x61...0x66: digit = byte - 0x61 + 10
                    default: return nil
                    }
                    value = value << 4 | UInt64(digit)
                }
                position += 16
            case .binary:
                guard position + 8 <= body.endIndex else { return nil }
                for byte in body[position..<position + 8] { value = value << 8 | UInt64(byte) }
                position += 8
            }
            return value
        }
        guard let primary = readBitmap() else { return nil }
        var secondary: UInt64 = 0
        if primary & (1 << 63) != 0 {
            guard let value = readBitmap() else { return nil }
            secondary = value
        }
        func present(_ field: Int) -> Bool {
            field <= 64 ? primary & (1 << UInt64(64 - field)) != 0 : secondary & (1 << UInt64(128 - field)) != 0
        }
        guard present(number) else { return nil }
        for field in 2...number where present(field) {
            guard let spec = spec(field) else {
                if field == 65 { continue }  // the tertiary-bitmap bit, skipped as the decoder does
                return nil
            }
            var length = spec.max
            if spec.length != .fixed {
                let digits = spec.length.prefixDigits
                guard position + digits <= body.endIndex else { return nil }
                length = 0
                for byte in body[position..<position + digits] {
                    guard byte &- 0x30 < 10 else { return nil }
                    length = length * 10 + Int(byte - 0x30)
                }
                guard length <= spec.max else { return nil }
                position += digits
            }
            let wire = spec.type == .b && binary == .hex ? length * 2 : length
            guard position + wire <= body.endIndex else { return nil }
            if field == number { return position..<position + wire }
            position += wire
        }
        return nil
    }
}
