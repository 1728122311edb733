import FeedProtocol
import VigilCore

/// A reversal (0400/0420 and repeats) of an earlier transaction, as it is stored.
public struct ISO8583Reversal: Sendable, Hashable {
    /// The reversal's own correlation key (a repeat of it is answered as a duplicate).
    public var id: String
    /// The id of the transaction it reverses (its correlation key, rebuilt from field 90).
    public var originalID: String
    /// The reversal's MTI, e.g. `0400`.
    public var mti: String
    /// The amount reversed (field 4), when given; a partial reversal carries the amount
    /// actually dispensed in field 95, which is kept in `raw`.
    public var amount: Money?
    /// When the reversal was sent (field 7, UTC).
    public var reversedAt: Timestamp
    /// The JSON stored as the reversal's raw record (identifiers only, no card data).
    public var raw: [UInt8]

    /// Creates a reversal.
    public init(id: String, originalID: String, mti: String, amount: Money?, reversedAt: Timestamp, raw: [UInt8]) {
        self.id = id
        self.originalID = originalID
        self.mti = mti
        self.amount = amount
        self.reversedAt = reversedAt
        self.raw = raw
    }
}

extension ISO8583Mapper {
    /// The reversal `message` (received at `now`) asks for, or why it cannot be read.
    ///
    /// The original is named by field 90 (original data elements: MTI, STAN, transmission
    /// time, acquirer, forwarder) with this message's terminal (41) and RRN (37), which a
    /// reversal repeats; without field 90 the reversal's own STAN and transmission time
    /// are taken (senders that repeat the original's).
    public static func reversal(from message: ISO8583Message, now: Timestamp) -> Result<ISO8583Reversal, FeedRejection> {
        guard let id = transactionID(message), let terminal = field(message, 41) else {
            return .failure(
                FeedRejection(
                    code: .missingField, field: "iso8583.correlation",
                    message: "fields 7 (transmission time), 11 (STAN) and 41 (terminal) are required: with 37 (RRN) they identify the reversal"))
        }
        guard let time = message[7], let reversedAt = transmissionTime(time, now: now) else {
            return .failure(
                FeedRejection(
                    code: .invalidTimestamp, recordID: id, field: "iso8583.7",
                    message: "field 7 (transmission date and time) must be MMDDhhmmss in UTC, a real date and time"))
        }
        var originalSTAN = field(message, 11) ?? ""
        var originalTime = field(message, 7) ?? ""
        if let original = message[90] {
            guard original.count == 42 else {
                return .failure(
                    FeedRejection(
                        code: .missingField, recordID: id, field: "iso8583.90",
                        message: "field 90 (original data elements) must be 42 digits: MTI, STAN, transmission time, acquirer, forwarder"))
            }
            originalSTAN = String(decoding: original[4..<10], as: UTF8.self)
            originalTime = String(decoding: original[10..<20], as: UTF8.self)
        }
        let originalID = correlationID(time: originalTime, terminal: terminal, stan: originalSTAN, rrn: field(message, 37) ?? "")
        var amount: Money?
        if let digits = message[4], let minor = Int64(String(decoding: digits, as: UTF8.self)),
            let code = field(message, 49), let currency = ISO4217Numeric.currency(numeric: code)
        {
            amount = Money(minorUnits: minor, currency: currency)
        }
        var raw: [UInt8] = []
        append("{", &raw)
        member("id", id, &raw, first: true)
        member("original_id", originalID, &raw)
        member("mti", message.mtiText, &raw)
        if let amount {
            member("amount", amount.decimalString, &raw)
            member("currency", amount.currency.code, &raw)
        }
        for (number, name) in echoedFields + [(90, "original_data_elements"), (95, "replacement_amounts")] {
            if let value = field(message, number) { member(name, value, &raw) }
        }
        append("}", &raw)
        return .success(ISO8583Reversal(id: id, originalID: originalID, mti: message.mtiText, amount: amount, reversedAt: reversedAt, raw: raw))
    }
}
