/// Unpacks message bodies of one dialect; never traps and always ends, whatever the bytes.
///
/// Structural problems (a bitmap, a length prefix, a field that runs past the frame) stop
/// decoding, as nothing after them can be located; a bad character in a field whose length
/// is known is noted and decoding goes on, so the correlation fields after it can still be
/// read to answer the sender. The first problem is the one reported.
public struct ISO8583Decoder: Sendable {
    /// The dialect.
    public let packager: ISO8583Packager
    /// Fields that identify a request to its sender; echoed in every response.
    public static let correlationFields = [11, 37, 41, 42]

    /// Creates a decoder for `packager`'s dialect.
    public init(packager: ISO8583Packager) {
        self.packager = packager
    }

    /// Decodes one message body (the frame without its length header, which occupied the
    /// `headerSize` bytes before it: offsets in errors count from the frame's start).
    public func decode(body: some Collection<UInt8>) throws(ISO8583DecodeError) -> ISO8583Message {
        let bytes = Array(body)
        var cursor = Cursor(bytes: bytes, base: packager.headerSize)
        return try cursor.message(packager)
    }

    /// Fields masked before a frame is stored: card number, expiry, tracks, PIN block, ICC data.
    static let sensitiveFields = [2, 14, 34, 35, 36, 45, 52, 55]

    /// `frame` (length header included) as it may be stored: the card number keeps its
    /// first 6 and last 4 digits, other card data becomes `*`, and whatever could not be
    /// parsed has every run of 12 or more digits masked the same way.
    public func redacted(frame: [UInt8]) -> [UInt8] {
        let header = min(packager.headerSize, frame.count)
        var cursor = Cursor(bytes: Array(frame[header...]), base: header)
        cursor.ranges = [Range<Int>?](repeating: nil, count: 129)
        var walked = frame.count
        do {
            _ = try cursor.message(packager)
        } catch {
            walked = header + cursor.position
        }
        var out = frame
        for field in Self.sensitiveFields {
            guard let range = cursor.ranges[field] else { continue }
            let keep = field == 2 ? 6 : 0
            let tail = field == 2 ? 4 : 0
            for (index, position) in range.enumerated() where index >= keep && index < range.count - tail {
                out[header + position] = UInt8(ascii: "*")
            }
        }
        // The rest could hold anything: mask long digit runs (first 6, last 4 kept).
        var start = walked
        while start < out.count {
            guard out[start] &- 0x30 < 10 else {
                start += 1
                continue
            }
            var end = start
            while end < out.count, out[end] &- 0x30 < 10 { end += 1 }
            if end - start >= 12 {
                for index in (start + 6)..<(end - 4) { out[index] = UInt8(ascii: "*") }
            }
            start = end
        }
        return out
    }
}

/// One pass over a body.
private struct Cursor {
    let bytes: [UInt8]
    let base: Int
    var position = 0
    var message = ISO8583Message(mti: [])
    var mtiRead = false
    /// The first content error (decoding went on past it).
    var contentError: ISO8583DecodeError?
    /// Fields the bitmaps announce: bit `n - 1` of the first word, `n - 65` of the second.
    var presence: (low: UInt64, high: UInt64) = (0, 0)
    /// Where each field's content lies in the body: kept only when redacting (empty otherwise).
    var ranges: [Range<Int>?] = []

    init(bytes: [UInt8], base: Int) {
        self.bytes = bytes
        self.base = base
    }

    var offset: Int { base + position }

    func correlationReadable(beforeField limit: Int) -> Bool {
        guard mtiRead, announced(11) else { return false }
        for field in ISO8583Decoder.correlationFields where announced(field) {
            if field >= limit || message.slice(field) == nil { return false }
            if let error = contentError, error.field == field { return false }
        }
        return true
    }

    func fail(_ code: ISO8583DecodeError.Code, field: Int? = nil, at: Int? = nil, _ text: String) -> ISO8583DecodeError {
        ISO8583DecodeError(
            code: code, field: field, offset: at ?? offset, message: text, partial: mtiRead ? message : nil,
            correlationReadable: correlationReadable(beforeField: field ?? 129))
    }

    mutating func message(_ packager: ISO8583Packager) throws(ISO8583DecodeError) -> ISO8583Message {
        guard bytes.count >= 4 else {
            throw fail(.truncated, "the message ends after \(bytes.count) bytes, before its 4-digit MTI")
        }
        let mti = Array(bytes[0..<4])
        guard mti.allSatisfy({ $0 &- 0x30 < 10 }) else {
            throw fail(.badMTI, "the MTI must be 4 ASCII digits like 0100, not \(Self.show(mti))")
        }
        message.mti = mti
        mtiRead = true
        position = 4
        try readBitmap(packager, into: 1)
        if announced(1) { try readBitmap(packager, into: 65) }
        message.reserveCapacity(fields: presence.low.nonzeroBitCount + presence.high.nonzeroBitCount, bytes: bytes.count)
        for field in 2...128 where announced(field) {
            if field == 65 && packager.spec(65) == nil { continue }
            try readField(field, packager)
        }
        if position < bytes.count {
            throw fail(
                .lengthHeaderMismatch,
                "the length header counts \(bytes.count) bytes but the fields end after \(position); \(bytes.count - position) bytes are left over (the header or a field length is wrong)"
            )
        }
        if var error = contentError {
            error.partial = message
            error.correlationReadable = correlationReadable(beforeField: 129)
            throw error
        }
        return message
    }

    /// Reads a 64-bit bitmap whose first bit stands for `first`.
    mutating func readBitmap(_ packager: ISO8583Packager, into first: Int) throws(ISO8583DecodeError) {
        let which = first == 1 ? "primary" : "secondary"
        var value: UInt64 = 0
        switch packager.bitmap {
        case .hex:
            guard position + 16 <= bytes.count else {
                throw fail(.truncated, "the message ends inside the \(which) bitmap (16 hex characters from byte \(offset))")
            }
            for index in 0..<16 {
                guard let digit = Self.hexValue(bytes[position + index]) else {
                    throw fail(
                        .badBitmap, at: offset + index,
                        "the \(which) bitmap must be 16 hexadecimal characters; byte \(offset + index) is \(Self.show([bytes[position + index]]))")
                }
                value = value << 4 | UInt64(digit)
            }
            position += 16
        case .binary:
            guard position + 8 <= bytes.count else {
                throw fail(.truncated, "the message ends inside the \(which) bitmap (8 bytes from byte \(offset))")
            }
            for index in 0..<8 { value = value << 8 | UInt64(bytes[position + index]) }
            position += 8
        }
        // The wire's first bit (the word's highest) stands for `first`.
        var reversed: UInt64 = 0
        for bit in 0..<64 where value & (1 << UInt64(bit)) != 0 { reversed |= 1 << UInt64(63 - bit) }
        if first == 1 { presence.low = reversed } else { presence.high = reversed }
    }

    func announced(_ field: Int) -> Bool {
        field <= 64 ? presence.low & (1 << UInt64(field - 1)) != 0 : presence.high & (1 << UInt64(field - 65)) != 0
    }

    mutating func readField(_ field: Int, _ packager: ISO8583Packager) throws(ISO8583DecodeError) {
        guard let spec = packager.spec(field) else {
            throw fail(
                .unknownField, field: field,
                "the bitmap announces field \(field), which packager \"\(packager.name)\" does not describe; add it to the packager file or fix the bitmap"
            )
        }
        let start = offset
        var length = spec.max
        if spec.length != .fixed {
            let digits = spec.length.prefixDigits
            guard position + digits <= bytes.count else {
                throw fail(
                    .lengthHeaderMismatch, field: field,
                    "field \(field)'s \(digits)-digit length prefix at byte \(start) runs past the end of the frame")
            }
            length = 0
            for index in 0..<digits {
                let byte = bytes[position + index]
                guard byte &- 0x30 < 10 else {
                    throw fail(
                        .badLengthPrefix, field: field,
                        "field \(field) (\(spec.name)) must start with a \(digits)-digit length; byte \(start + index) is \(Self.show([byte]))")
                }
                length = length * 10 + Int(byte - 0x30)
            }
            guard length <= spec.max else {
                throw fail(
                    .fieldTooLong, field: field, "field \(field) (\(spec.name)) is \(length) long at byte \(start); at most \(spec.max) is allowed")
            }
            position += digits
        }
        let hexBinary = spec.type == .b && packager.binary == .hex
        let wire = hexBinary ? length * 2 : length
        guard position + wire <= bytes.count else {
            throw fail(
                .lengthHeaderMismatch, field: field,
                "field \(field) (\(spec.name)) needs \(wire) bytes from byte \(offset) but the length header ends the frame \(bytes.count - position) bytes later (the header or the field is wrong)"
            )
        }
        if hexBinary {
            var value: [UInt8] = []
            value.reserveCapacity(length)
            for index in 0..<length {
                let high = Self.hexValue(bytes[position + 2 * index])
                let low = Self.hexValue(bytes[position + 2 * index + 1])
                guard let high, let low else {
                    noteContent(
                        field, at: offset + 2 * index,
                        "field \(field) (\(spec.name)) is binary sent as hexadecimal; byte \(offset + 2 * index) is not a hex digit")
                    value.append(0)
                    continue
                }
                value.append(high << 4 | low)
            }
            message.set(field, value)
        } else {
            let value = bytes[position..<position + wire]
            if let bad = value.firstIndex(where: { !spec.allows($0) }) {
                noteContent(
                    field, at: base + bad,
                    "field \(field) (\(spec.name)) is of type \(spec.type.rawValue) but byte \(base + bad) is \(Self.show([value[bad]]))")
            }
            message.set(field, value)
        }
        if !ranges.isEmpty { ranges[field] = position..<position + wire }
        position += wire
    }

    mutating func noteContent(_ field: Int, at: Int, _ text: String) {
        guard contentError == nil else { return }
        contentError = ISO8583DecodeError(code: .invalidCharacter, field: field, offset: at, message: text)
    }

    static func hexValue(_ byte: UInt8) -> UInt8? {
        switch byte {
        case 0x30...0x39: byte - 0x30
        case 0x41...0x46: byte - 0x41 + 10
        case 0x61...0x66: byte - 0x61 + 10
        default: nil
        }
    }

    /// Bytes shown safely: printable ASCII in quotes, anything else as hex.
    static func show(_ bytes: [UInt8]) -> String {
        if bytes.allSatisfy({ $0 >= 0x20 && $0 < 0x7F }) { return "\"\(String(decoding: bytes, as: UTF8.self))\"" }
        return bytes.map { "0x" + String($0, radix: 16, uppercase: true) }.joined(separator: " ")
    }
}
