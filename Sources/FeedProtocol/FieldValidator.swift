import VigilCore

/// Validates the scanned members of one record and builds the `Transaction`.
struct FieldValidator {
    let fields: RawFields
    let decoder: FeedDecoder
    let now: Timestamp
    /// Set as soon as `id` is valid, so every later rejection carries it.
    private var recordID: String?

    init(fields: RawFields, decoder: FeedDecoder, now: Timestamp) {
        self.fields = fields
        self.decoder = decoder
        self.now = now
    }

    mutating func transaction() throws(FeedRejection) -> Transaction {
        let id = try identifier(.id, required: true) ?? ""
        recordID = id
        let timestamp = try timestampField()
        let accountID = try identifier(.accountID, required: true) ?? ""
        let currency = try currencyField()
        let amount = try amountField(currency)
        let channel = try channelField()
        let cardID = try identifier(.cardID, required: false)
        let merchantID = try identifier(.merchantID, required: false)
        let mcc = try mccField()
        let country = try countryField()
        let deviceID = try identifier(.deviceID, required: false)
        let ip = try ipField()
        let (latitude, longitude) = try locationFields()
        return Transaction(
            id: id, timestamp: timestamp, accountID: accountID, cardID: cardID,
            amount: amount, merchantID: merchantID, mcc: mcc, country: country,
            channel: channel, deviceID: deviceID, ip: ip, latitude: latitude, longitude: longitude
        )
    }

    private func reject(_ code: FeedRejection.Code, _ field: FeedField, _ message: String) -> FeedRejection {
        FeedRejection(code: code, recordID: recordID, field: field.wireName, message: message)
    }

    /// The token of a string member; `nil` when absent or `null` (an error if required).
    private func stringToken(_ field: FeedField, required: Bool, expected: String = "a string") throws(FeedRejection) -> JSONToken? {
        guard let token = fields[field], token.kind != .null else {
            if required {
                throw reject(.missingField, field, "required field \"\(field.wireName)\" is missing; it must be \(expected)")
            }
            return nil
        }
        guard token.kind == .string else {
            throw reject(.invalidFieldType, field, "field \"\(field.wireName)\" must be \(expected), not \(Self.describe(token.kind))")
        }
        return token
    }

    static func describe(_ kind: JSONKind) -> String {
        switch kind {
        case .string: "a string"
        case .number: "a number"
        case .bool: "a boolean"
        case .null: "null"
        case .object: "an object"
        case .array: "an array"
        }
    }

    private func identifier(_ field: FeedField, required: Bool) throws(FeedRejection) -> String? {
        guard let token = try stringToken(field, required: required) else { return nil }
        let limit = decoder.configuration.maximumIDLength
        let problem: String? = fields.withBytes(token) { bytes in
            if bytes.isEmpty { return "is empty" }
            if bytes.count > limit { return "is longer than \(limit) bytes" }
            if bytes.contains(where: { $0 < 0x20 || $0 == 0x7F }) { return "contains control characters" }
            return nil
        }
        if let problem {
            throw reject(.invalidID, field, "field \"\(field.wireName)\" \(problem); identifiers are 1-\(limit) bytes of printable text")
        }
        return fields.makeString(token)
    }

    private func timestampField() throws(FeedRejection) -> Timestamp {
        let field = FeedField.timestamp
        guard let token = try stringToken(field, required: true, expected: "an RFC 3339 string") else {
            throw reject(.missingField, field, "required field \"timestamp\" is missing")
        }
        guard let timestamp = fields.withBytes(token, { RFC3339.parse($0) }) else {
            throw reject(.invalidTimestamp, field, "field \"timestamp\" is not an RFC 3339 date-time like \"2026-11-24T10:15:00.123Z\"")
        }
        let ahead = timestamp.microsecondsSinceEpoch.subtractingReportingOverflow(now.microsecondsSinceEpoch)
        if ahead.overflow || ahead.partialValue > decoder.futureSkewMicros {
            throw reject(
                .invalidTimestamp, field,
                "field \"timestamp\" lies more than \(decoder.configuration.maximumFutureSkew) in the future; check the sender's clock and time zone")
        }
        if ahead.partialValue < 0, ahead.partialValue.magnitude > decoder.maximumAgeMicros.magnitude {
            throw reject(.invalidTimestamp, field, "field \"timestamp\" lies more than \(decoder.configuration.maximumAge) in the past")
        }
        return timestamp
    }

    private func currencyField() throws(FeedRejection) -> Currency {
        let field = FeedField.currency
        guard let token = try stringToken(field, required: true, expected: "an ISO 4217 code string") else {
            throw reject(.missingField, field, "required field \"currency\" is missing")
        }
        let length = token.end - token.start
        if !token.escaped, length == 3 {
            let code = fields.makeString(token)
            if let currency = Currency(code: code) { return currency }
            if let upper = Currency(code: code.uppercased()) {
                throw reject(.invalidCurrency, field, "field \"currency\" is \"\(code)\"; ISO 4217 codes are upper case (\"\(upper.code)\")")
            }
        }
        throw reject(.invalidCurrency, field, "field \"currency\" is not an active ISO 4217 code such as \"EUR\", \"USD\" or \"JPY\"")
    }

    private func amountField(_ currency: Currency) throws(FeedRejection) -> Money {
        let field = FeedField.amount
        guard let token = fields[field], token.kind != .null else {
            throw reject(.missingField, field, "required field \"amount\" is missing; it must be a decimal string like \"125.40\"")
        }
        guard token.kind == .string else {
            throw reject(
                .invalidFieldType, field,
                "field \"amount\" must be a decimal string like \"125.40\", not \(Self.describe(token.kind)); amounts are decimal strings so no precision is lost to binary floats"
            )
        }
        let scan = fields.withBytes(token) { AmountSyntax.check($0, exponent: currency.exponent) }
        switch scan {
        case .malformed:
            throw reject(.invalidAmount, field, "field \"amount\" must be a decimal string of digits with an optional '.', like \"125.40\"")
        case .negative:
            throw reject(.invalidAmount, field, "field \"amount\" must be greater than zero; refunds and reversals are separate messages")
        case .tooPrecise(let digits):
            throw reject(
                .invalidAmount, field, "field \"amount\" has \(digits) fraction digits but \(currency.code) allows at most \(currency.exponent)")
        case .ok:
            break
        }
        guard let units = fields.withBytes(token, { Money.parseMinorUnits($0, exponent: currency.exponent) }),
            units / currency.minorUnitsPerMajor < decoder.configuration.maximumMajorUnits
        else {
            throw reject(
                .invalidAmount, field,
                "field \"amount\" is beyond the accepted range (below \(decoder.configuration.maximumMajorUnits) \(currency.code))")
        }
        guard units > 0 else {
            throw reject(.invalidAmount, field, "field \"amount\" must be greater than zero")
        }
        return Money(minorUnits: units, currency: currency)
    }

    private func channelField() throws(FeedRejection) -> Channel {
        let field = FeedField.channel
        guard let token = try stringToken(field, required: true) else {
            throw reject(.missingField, field, "required field \"channel\" is missing")
        }
        let channel: Channel? = fields.withBytes(token) { bytes in
            switch bytes.count {
            case 3 where bytes.elementsEqual("atm".utf8): .atm
            case 8 where bytes.elementsEqual("transfer".utf8): .transfer
            case 12 where bytes.elementsEqual("card_present".utf8): .cardPresent
            case 16 where bytes.elementsEqual("card_not_present".utf8): .cardNotPresent
            default: nil
            }
        }
        guard let channel else {
            throw reject(.unknownChannel, field, "field \"channel\" must be one of card_present, card_not_present, atm, transfer")
        }
        return channel
    }

    private func mccField() throws(FeedRejection) -> String? {
        guard let token = try stringToken(.mcc, required: false, expected: "a string of four digits") else { return nil }
        let ok = fields.withBytes(token) { b in b.count == 4 && b.allSatisfy { $0 &- UInt8(ascii: "0") < 10 } }
        guard ok else { throw reject(.invalidMCC, .mcc, "field \"mcc\" must be an ISO 18245 merchant category code of four digits, like \"5411\"") }
        return fields.makeString(token)
    }

    private func countryField() throws(FeedRejection) -> String? {
        guard let token = try stringToken(.country, required: false, expected: "an ISO 3166-1 alpha-2 string") else { return nil }
        let ok = fields.withBytes(token) { b in b.count == 2 && ISO3166.isAssigned(b[0], b[1]) }
        guard ok else { throw reject(.invalidCountry, .country, "field \"country\" must be an upper-case ISO 3166-1 alpha-2 code, like \"DE\"") }
        return fields.makeString(token)
    }

    private func ipField() throws(FeedRejection) -> String? {
        guard let token = try stringToken(.ip, required: false) else { return nil }
        guard fields.withBytes(token, { IPAddressSyntax.isValid($0) }) else {
            throw reject(.invalidIP, .ip, "field \"ip\" must be an IPv4 or IPv6 address, like \"203.0.113.5\"")
        }
        return fields.makeString(token)
    }

    private func locationFields() throws(FeedRejection) -> (Double?, Double?) {
        let lat = try coordinate(.latitude, limit: 90)
        let lon = try coordinate(.longitude, limit: 180)
        if (lat == nil) != (lon == nil) {
            let missing: FeedField = lat == nil ? .latitude : .longitude
            throw reject(.invalidLocation, missing, "\"lat\" and \"lon\" come together; \"\(missing.wireName)\" is missing")
        }
        return (lat, lon)
    }

    private func coordinate(_ field: FeedField, limit: Double) throws(FeedRejection) -> Double? {
        guard let token = fields[field], token.kind != .null else { return nil }
        guard token.kind == .number else {
            throw reject(.invalidFieldType, field, "field \"\(field.wireName)\" must be a number of degrees, not \(Self.describe(token.kind))")
        }
        // Short numbers make a small (inline) String, so this does not allocate.
        let text = fields.makeString(JSONToken(kind: .string, start: token.start, end: token.end, escaped: false))
        guard let value = Double(text), value.isFinite, value >= -limit, value <= limit else {
            throw reject(.invalidLocation, field, "field \"\(field.wireName)\" must be between -\(Int(limit)) and \(Int(limit)) degrees")
        }
        return value
    }
}
