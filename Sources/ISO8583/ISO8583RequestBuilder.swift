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
    public static func request(for transaction: Transaction) -> ISO8583Message {
        var message = ISO8583Message(mti: Array("0200".utf8))
        let hash = fnv1a(transaction.id)
        let processing: String
        let entry: String
        switch transaction.channel {
        case .cardPresent: (processing, entry) = ("000000", "051")
        case .cardNotPresent: (processing, entry) = ("000000", "812")
        case .atm: (processing, entry) = ("010000", "051")
        case .transfer: (processing, entry) = ("400000", "012")
        }
        message[3] = Array(processing.utf8)
        message[4] = digits(transaction.amount.minorUnits, width: 12)
        let (date, time) = RFC3339.components(transaction.timestamp)
        message[7] =
            digits(date.month, width: 2) + digits(date.day, width: 2) + digits(time.hour, width: 2) + digits(time.minute, width: 2)
            + digits(time.second, width: 2)
        message[11] = digits(Int64(hash % 1_000_000), width: 6)
        message[12] = Array(message[7]?.suffix(6) ?? [])
        message[13] = Array(message[7]?.prefix(4) ?? [])
        if let mcc = transaction.mcc { message[18] = Array(mcc.utf8) }
        message[22] = Array(entry.utf8)
        message[37] = digits(Int64((hash >> 20) % 1_000_000_000_000), width: 12)
        message[41] = Array("T".utf8) + digits(Int64(fnv1a(transaction.merchantID ?? transaction.accountID) % 10_000_000), width: 7)
        if let merchant = transaction.merchantID, merchant.utf8.count <= 15 { message[42] = Array(merchant.utf8) }
        if let country = transaction.country {
            message[43] = [UInt8](repeating: 0x20, count: 38) + Array(country.utf8)
        }
        message[49] = Array((ISO4217Numeric.numeric(alphabetic: transaction.amount.currency.code) ?? "000").utf8)
        if let card = transaction.cardID { message[2] = testCardNumber(for: card) }
        if transaction.accountID.utf8.count <= 28 { message[102] = Array(transaction.accountID.utf8) }
        return message
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
