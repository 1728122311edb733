import FeedProtocol
import VigilCore

/// Turns ISO 8583 requests into Vigil's own record: a `Transaction` and the protocol v1 line
/// (JSON) stored as its raw form, which takes the path an NDJSON line takes (card-number
/// policy, validation, storage) without being parsed again when it is clean.
///
/// The mapping is documented field by field in `docs/iso8583.md`. The line carries the
/// v1 members Vigil evaluates, plus an `iso8583` object with the message's own identifiers
/// (stored in `transactions.raw`, never evaluated). Track data, PIN blocks and expiry
/// dates are never copied; the card number goes into `card_id`, where the feed's PAN
/// policy refuses it or replaces it by its keyed token before anything is stored.
public enum ISO8583Mapper {
    /// What kind of request an MTI is.
    public enum Kind: Sendable, Equatable {
        /// x100/x200 authorisation or financial request or advice (and their repeats).
        case transaction
        /// x400 reversal request or advice (and repeats).
        case reversal
        /// x800 network management (echo, sign-on, key exchange).
        case networkManagement
        /// Anything else (responses, file updates, administrative): answered with a format error.
        case unsupported
    }

    /// The kind of request `mti` is.
    public static func kind(of mti: [UInt8]) -> Kind {
        guard mti.count == 4, mti[0] == 0x30 else { return .unsupported }
        // Third digit: 0 request, 2 advice (even: something to answer). Fourth: 0 or 1 (repeat).
        guard mti[2] == 0x30 || mti[2] == 0x32, mti[3] == 0x30 || mti[3] == 0x31 else { return .unsupported }
        switch mti[1] {
        case 0x31, 0x32: return .transaction
        case 0x34: return .reversal
        case 0x38: return .networkManagement
        default: return .unsupported
        }
    }

    /// The response MTI of request `mti`: function digit plus one, origin digit 0 (0100 → 0110,
    /// 0201 → 0210, 0420 → 0430); nil when `mti` is not a request or advice.
    public static func responseMTI(for mti: [UInt8]) -> [UInt8]? {
        guard mti.count == 4, mti.allSatisfy({ $0 &- 0x30 < 10 }), mti[2] == 0x30 || mti[2] == 0x32 else { return nil }
        return [mti[0], mti[1], mti[2] + 1, 0x30]
    }

    /// The sender's correlation key as a transaction id:
    /// `8583:<transmission time 7>:<terminal 41>:<STAN 11>:<RRN 37>`, trailing spaces
    /// dropped; a retransmission of the same request has the same id and is answered
    /// with the stored response instead of being evaluated again. The time comes first so
    /// that ids rise with it: new rows go to the right edge of the primary key's index,
    /// not to a page anywhere in it (terminals are many and unordered).
    public static func transactionID(_ message: ISO8583Message) -> String? {
        guard let stan = field(message, 11), let time = field(message, 7), let terminal = field(message, 41) else { return nil }
        return correlationID(time: time, terminal: terminal, stan: stan, rrn: field(message, 37) ?? "")
    }

    /// The transaction id of a request with these correlation fields.
    static func correlationID(time: String, terminal: String, stan: String, rrn: String) -> String {
        "8583:\(time):\(terminal):\(stan):\(rrn)"
    }

    /// A field's text without trailing spaces; nil when absent or blank.
    static func field(_ message: ISO8583Message, _ number: Int) -> String? {
        guard var bytes = message.slice(number) else { return nil }
        while bytes.last == 0x20 { bytes.removeLast() }
        return bytes.isEmpty ? nil : String(decoding: bytes, as: UTF8.self)
    }

    /// A transaction request as Vigil takes it: the transaction to evaluate and the protocol
    /// v1 line stored as its raw record (decoding the line gives the same transaction).
    public struct Mapped: Sendable {
        /// The transaction, built from the fields (not parsed back from `line`).
        public var transaction: Transaction
        /// The line stored in `transactions.raw`, with the `iso8583` identifiers.
        public var line: [UInt8]
    }

    /// The protocol v1 line for transaction request `message` received at `now`, or why
    /// there can be none (a rejection naming the ISO field).
    public static func line(for message: ISO8583Message, now: Timestamp) -> Result<[UInt8], FeedRejection> {
        map(message, now: now).map(\.line)
    }

    /// Transaction request `message` received at `now` as a transaction and its line, or why
    /// it cannot be one (a rejection naming the ISO field). Building the transaction here
    /// spares the listener a second parse of the line it would otherwise decode.
    public static func map(_ message: ISO8583Message, now: Timestamp) -> Result<Mapped, FeedRejection> {
        guard let id = transactionID(message) else {
            return .failure(
                FeedRejection(
                    code: .missingField, field: "iso8583.correlation",
                    message: "fields 7 (transmission time), 11 (STAN) and 41 (terminal) are required: with 37 (RRN) they identify the request"))
        }
        guard let time = message.slice(7), let timestamp = transmissionTime(time, now: now) else {
            return .failure(
                FeedRejection(
                    code: .invalidTimestamp, recordID: id, field: "iso8583.7",
                    message: "field 7 (transmission date and time) must be MMDDhhmmss in UTC, a real date and time"))
        }
        guard let currencyCode = field(message, 49), let currency = ISO4217Numeric.currency(numeric: currencyCode) else {
            return .failure(
                FeedRejection(
                    code: .invalidCurrency, recordID: id, field: "iso8583.49",
                    message: "field 49 (currency) must be an ISO 4217 numeric code such as 978 (EUR) or 840 (USD)"))
        }
        guard let amountDigits = message.slice(4), let minor = integer(amountDigits) else {
            return .failure(
                FeedRejection(
                    code: .missingField, recordID: id, field: "iso8583.4",
                    message: "field 4 (amount, transaction) is required: 12 digits in minor units"))
        }
        let card = cardNumber(message)
        guard let account = field(message, 102) ?? card else {
            return .failure(
                FeedRejection(
                    code: .missingField, recordID: id, field: "iso8583.2",
                    message: "a card number (field 2 or the PAN of track 2, field 35) or an account (field 102) is required"))
        }
        let transaction = Transaction(
            id: id, timestamp: timestamp, accountID: account, cardID: card, amount: Money(minorUnits: minor, currency: currency),
            merchantID: field(message, 42), mcc: field(message, 18), country: country(message), channel: channel(message))
        var out: [UInt8] = []
        out.reserveCapacity(640)
        append("{\"id\":", &out)
        JSONText.appendQuoted(id, to: &out)
        append(",\"timestamp\":\"", &out)
        FeedEncoder.appendTimestamp(timestamp, to: &out)
        out.append(UInt8(ascii: "\""))
        member("account_id", account, &out)
        if let card { member("card_id", card, &out) }
        append(",\"amount\":\"", &out)
        FeedEncoder.appendAmount(transaction.amount, to: &out)
        out.append(UInt8(ascii: "\""))
        member("currency", currency.code, &out)
        if let merchant = transaction.merchantID { member("merchant_id", merchant, &out) }
        if let mcc = transaction.mcc { member("mcc", mcc, &out) }
        if let country = transaction.country { member("country", country, &out) }
        member("channel", transaction.channel.rawValue, &out)
        append(",\"iso8583\":{", &out)
        member("mti", message.mtiText, &out, first: true)
        for (number, name) in echoedFields {
            if let value = message.slice(number) { echo(name, value, &out) }
        }
        append("}}", &out)
        return .success(Mapped(transaction: transaction, line: out))
    }

    /// Digits as a number, as `Int64(String)` reads them (without making the `String` when
    /// they are plain digits).
    static func integer(_ bytes: ArraySlice<UInt8>) -> Int64? {
        guard !bytes.isEmpty, bytes.count <= 18, bytes.allSatisfy({ $0 &- 0x30 < 10 }) else {
            return Int64(String(decoding: bytes, as: UTF8.self))
        }
        return bytes.reduce(0) { $0 * 10 + Int64($1 - 0x30) }
    }

    /// Member `name` with a field's text (trailing spaces dropped; nothing when blank): the
    /// bytes copied as they are when they need no escaping, else as ``member(_:_:_:first:)`` writes them.
    static func echo(_ name: String, _ value: ArraySlice<UInt8>, _ out: inout [UInt8]) {
        var end = value.endIndex
        while end > value.startIndex, value[end - 1] == 0x20 { end -= 1 }
        guard end > value.startIndex else { return }
        let text = value[..<end]
        guard text.allSatisfy({ $0 >= 0x20 && $0 < 0x7F && $0 != UInt8(ascii: "\"") && $0 != UInt8(ascii: "\\") }) else {
            member(name, String(decoding: text, as: UTF8.self), &out)
            return
        }
        append(",\"", &out)
        out.append(contentsOf: name.utf8)
        append("\":\"", &out)
        out.append(contentsOf: text)
        out.append(UInt8(ascii: "\""))
    }

    /// Fields copied into the line's `iso8583` object (identifiers only; no card data).
    static let echoedFields: [(Int, String)] = [
        (3, "processing_code"), (7, "transmission_time"), (11, "stan"), (12, "local_time"), (13, "local_date"),
        (19, "acquirer_country"), (22, "pos_entry_mode"), (25, "pos_condition"), (32, "acquiring_institution"),
        (33, "forwarding_institution"), (37, "rrn"), (41, "terminal_id"), (42, "card_acceptor_id"), (43, "card_acceptor_name_location"),
    ]

    /// The card number: field 2, else the PAN of track 2 (before its `=` or `D` separator).
    static func cardNumber(_ message: ISO8583Message) -> String? {
        if let pan = field(message, 2) { return pan }
        guard let track = message.slice(35) else { return nil }
        let pan = track.prefix { $0 &- 0x30 < 10 }
        return pan.isEmpty ? nil : String(decoding: pan, as: UTF8.self)
    }

    /// The payment's channel from the processing code (3), POS entry mode (22) and MCC (18).
    static func channel(_ message: ISO8583Message) -> Channel {
        let processing = message.slice(3)?.prefix(2) ?? []
        if processing.elementsEqual("01".utf8) || message.slice(18)?.elementsEqual("6011".utf8) == true { return .atm }
        if processing.elementsEqual("40".utf8) { return .transfer }
        guard let entry = message.slice(22), entry.count >= 2 else { return .cardNotPresent }
        switch (entry[entry.startIndex], entry[entry.startIndex + 1]) {
        case (0x30, 0x32), (0x30, 0x35), (0x30, 0x37), (0x39, 0x30), (0x39, 0x31), (0x39, 0x35), (0x38, 0x30):
            return .cardPresent  // 02 stripe, 05 chip, 07 contactless, 90/91 full stripe, 95 chip fallback, 80 fallback
        default:
            return .cardNotPresent  // 01 manual, 10 credential on file, 81 e-commerce, 00 unknown
        }
    }

    /// The alpha-2 country at positions 39–40 of field 43, when it is an assigned code.
    static func country(_ message: ISO8583Message) -> String? {
        guard let location = message.slice(43), location.count >= 40 else { return nil }
        let code = location.dropFirst(38).prefix(2)
        return ISO3166.isAssigned(code[code.startIndex], code[code.startIndex + 1]) ? String(decoding: code, as: UTF8.self) : nil
    }

    /// Field 7 (MMDDhhmmss, UTC, no year) as the timestamp closest to `now`.
    public static func transmissionTime(_ digits: [UInt8], now: Timestamp) -> Timestamp? {
        transmissionTime(digits[...], now: now)
    }

    /// Field 7 (MMDDhhmmss, UTC, no year) as the timestamp closest to `now`.
    public static func transmissionTime(_ digits: ArraySlice<UInt8>, now: Timestamp) -> Timestamp? {
        guard digits.count == 10, digits.allSatisfy({ $0 &- 0x30 < 10 }) else { return nil }
        let first = digits.startIndex
        func pair(_ at: Int) -> Int64 { Int64(digits[first + at] - 0x30) * 10 + Int64(digits[first + at + 1] - 0x30) }
        let (month, day, hour, minute, second) = (pair(0), pair(2), pair(4), pair(6), pair(8))
        guard (1...12).contains(month), (1...31).contains(day), hour < 24, minute < 60, second < 60 else { return nil }
        let year = RFC3339.components(now).date.year
        var best: Timestamp?
        for candidate in [year - 1, year, year + 1] {
            let days = RFC3339.daysFromCivil(year: candidate, month: month, day: day)
            // 31 February and the like roll into the next month: not a real date.
            let civil = RFC3339.civilFromDays(days)
            guard civil.year == candidate, civil.month == month, civil.day == day else { continue }
            let stamp = Timestamp(secondsSinceEpoch: days * 86_400 + hour * 3_600 + minute * 60 + second)
            if let current = best, abs(current.secondsSinceEpoch - now.secondsSinceEpoch) <= abs(stamp.secondsSinceEpoch - now.secondsSinceEpoch) {
                continue
            }
            best = stamp
        }
        return best
    }

    static func member(_ name: String, _ value: String, _ out: inout [UInt8], first: Bool = false) {
        if !first { out.append(UInt8(ascii: ",")) }
        out.append(UInt8(ascii: "\""))
        out.append(contentsOf: name.utf8)
        append("\":", &out)
        JSONText.appendQuoted(value, to: &out)
    }

    static func append(_ text: StaticString, _ out: inout [UInt8]) {
        out.append(contentsOf: UnsafeBufferPointer(start: text.utf8Start, count: text.utf8CodeUnitCount))
    }
}
