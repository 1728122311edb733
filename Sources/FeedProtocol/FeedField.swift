/// The members of a protocol v1 record that the decoder knows; others are ignored.
public enum FeedField: Int, Sendable, CaseIterable {
    case id, timestamp, accountID, cardID, amount, currency, merchantID
    case mcc, country, channel, deviceID, ip, latitude, longitude

    /// The member name on the wire.
    public var wireName: String {
        switch self {
        case .id: "id"
        case .timestamp: "timestamp"
        case .accountID: "account_id"
        case .cardID: "card_id"
        case .amount: "amount"
        case .currency: "currency"
        case .merchantID: "merchant_id"
        case .mcc: "mcc"
        case .country: "country"
        case .channel: "channel"
        case .deviceID: "device_id"
        case .ip: "ip"
        case .latitude: "lat"
        case .longitude: "lon"
        }
    }

    /// Matches a raw (unescaped) member name without allocating; `nil` for unknown names.
    static func match(_ bytes: UnsafeBufferPointer<UInt8>, from start: Int, to end: Int) -> FeedField? {
        let length = end - start
        guard length >= 2, length <= 11, start >= 0, end <= bytes.count else { return nil }
        // Dispatch on length and first byte, then confirm the whole name.
        let candidate: FeedField?
        switch (length, bytes[start]) {
        case (2, UInt8(ascii: "i")): candidate = bytes[start + 1] == UInt8(ascii: "d") ? .id : .ip
        case (3, UInt8(ascii: "m")): candidate = .mcc
        case (3, UInt8(ascii: "l")): candidate = bytes[start + 1] == UInt8(ascii: "a") ? .latitude : .longitude
        case (6, UInt8(ascii: "a")): candidate = .amount
        case (7, UInt8(ascii: "c")):
            candidate = bytes[start + 2] == UInt8(ascii: "r") ? .cardID : bytes[start + 2] == UInt8(ascii: "u") ? .country : .channel
        case (8, UInt8(ascii: "c")): candidate = .currency
        case (9, UInt8(ascii: "t")): candidate = .timestamp
        case (9, UInt8(ascii: "d")): candidate = .deviceID
        case (10, UInt8(ascii: "a")): candidate = .accountID
        case (11, UInt8(ascii: "m")): candidate = .merchantID
        default: candidate = nil
        }
        guard let field = candidate else { return nil }
        let name = field.staticName
        guard name.utf8CodeUnitCount == length else { return nil }
        let expected = UnsafeBufferPointer(start: name.utf8Start, count: length)
        for i in 0..<length where bytes[start + i] != expected[i] { return nil }
        return field
    }

    private var staticName: StaticString {
        switch self {
        case .id: "id"
        case .timestamp: "timestamp"
        case .accountID: "account_id"
        case .cardID: "card_id"
        case .amount: "amount"
        case .currency: "currency"
        case .merchantID: "merchant_id"
        case .mcc: "mcc"
        case .country: "country"
        case .channel: "channel"
        case .deviceID: "device_id"
        case .ip: "ip"
        case .latitude: "lat"
        case .longitude: "lon"
        }
    }
}
