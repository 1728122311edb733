import VigilCore

/// Builds an ISO 8583 request from a feed v1 transaction: what `vigil feed send|bench
/// --format iso8583` send, so the demo and the benchmarks can run over ISO 8583.
///
/// Deterministic: the same transaction always gives the same message, so a re-sent
/// record has the same correlation key and is answered as a duplicate, as on the NDJSON
/// feed. The correlation fields are derived from the transaction's id (STAN and RRN from
/// a stable hash of it, the terminal from the merchant). ISO 8583 has no place for
/// `device_id`, `ip` or the location; those are not sent.
public enum ISO8583RequestBuilder {
    /// The 0200 (financial request) for `transaction`.
    ///
    /// Fields are set in ascending order (each span goes at the end) and numbers are written
    /// digit by digit into the message's buffer: the bench's load generator builds one of
    /// these a record on the server's cores.
    public static func request(for transaction: Transaction) -> ISO8583Message {
        var message = ISO8583Message(mti: mti0200)
        message.reserveCapacity(fields: 16, bytes: 192)
        let hash = fnv1a(transaction.id)
        let processing: StaticString
        let entry: StaticString
        switch transaction.channel {
        case .cardPresent: (processing, entry) = ("000000", "051")
        case .cardNotPresent: (processing, entry) = ("000000", "812")
        case .atm: (processing, entry) = ("010000", "051")
        case .transfer: (processing, entry) = ("400000", "012")
        }
        if let card = transaction.cardID { message.set(2, testCardNumber(for: card)) }
        message.set(3, bytes(processing))
        message.set(4, Digits(transaction.amount.minorUnits.magnitude, width: 12))
        let (date, time) = RFC3339.components(transaction.timestamp)
        // MMDDhhmmss as one number: field 7, and its parts for 12 (hhmmss) and 13 (MMDD).
        let stamp = UInt64(date.month * 100_000_000 + date.day * 1_000_000 + time.hour * 10_000 + time.minute * 100 + time.second)
        message.set(7, Digits(stamp, width: 10))
        message.set(11, Digits(hash % 1_000_000, width: 6))
        message.set(12, Digits(stamp % 1_000_000, width: 6))
        message.set(13, Digits(stamp / 1_000_000, width: 4))
        if let mcc = transaction.mcc { message.set(18, mcc.utf8) }
        message.set(22, bytes(entry))
        message.set(37, Digits((hash >> 20) % 1_000_000_000_000, width: 12))
        message.set(41, Digits(fnv1a(transaction.merchantID ?? transaction.accountID) % 10_000_000, width: 7, prefix: UInt8(ascii: "T")))
        if let merchant = transaction.merchantID, merchant.utf8.count <= 15 { message.set(42, merchant.utf8) }
        if let country = transaction.country {
            message.set(43, [UInt8](repeating: 0x20, count: 38) + Array(country.utf8))
        }
        message.set(49, (ISO4217Numeric.numeric(alphabetic: transaction.amount.currency.code) ?? "000").utf8)
        if transaction.accountID.utf8.count <= 28 { message.set(102, transaction.accountID.utf8) }
        return message
    }

    private static let mti0200 = Array("0200".utf8)

    private static func bytes(_ text: StaticString) -> UnsafeBufferPointer<UInt8> {
        UnsafeBufferPointer(start: text.utf8Start, count: text.utf8CodeUnitCount)
    }

    /// `value`'s last `width` decimal digits, zero-padded, after an optional ASCII prefix:
    /// a collection computed as it is read, so a field is written without an array of its own.
    struct Digits: RandomAccessCollection {
        let value: UInt64
        let width: Int
        let prefix: UInt8?
        init(_ value: UInt64, width: Int, prefix: UInt8? = nil) {
            (self.value, self.width, self.prefix) = (value, width, prefix)
        }
        var startIndex: Int { 0 }
        var endIndex: Int { width + (prefix == nil ? 0 : 1) }
        subscript(position: Int) -> UInt8 {
            var digit = position
            if let prefix {
                if position == 0 { return prefix }
                digit -= 1
            }
            var rest = value
            for _ in 0..<(width - 1 - digit) { rest /= 10 }
            return UInt8(0x30 + rest % 10)
        }
    }

    /// A 16-digit number standing for a feed's card id: the same card always gives the same
    /// number, and its check digit is deliberately wrong (it fails Luhn), so it can never be
    /// a real card's number and the PAN policy leaves it alone.
    public static func testCardNumber(for card: String) -> [UInt8] {
        var body = Array("9".utf8) + digits(Int64(fnv1a(card) % 100_000_000_000_000), width: 14)
        var sum = 0
        for (index, byte) in body.reversed().enumerated() {
            var digit = Int(byte - 0x30)
            if index % 2 == 0 {
                digit *= 2
                if digit > 9 { digit -= 9 }
            }
            sum += digit
        }
        let luhn = (10 - sum % 10) % 10
        body.append(UInt8(0x30 + (luhn + 1) % 10))
        return body
    }

    static func digits(_ value: Int64, width: Int) -> [UInt8] {
        var out = [UInt8](repeating: 0x30, count: width)
        var rest = value.magnitude
        for index in (0..<width).reversed() {
            out[index] = UInt8(0x30 + rest % 10)
            rest /= 10
        }
        return out
    }

    /// FNV-1a of the text: the same in every process.
    static func fnv1a(_ text: String) -> UInt64 {
        var value: UInt64 = 0xcbf2_9ce4_8422_2325
        for byte in text.utf8 {
            value ^= UInt64(byte)
            value &*= 0x0000_0100_0000_01b3
        }
        return value
    }
}
