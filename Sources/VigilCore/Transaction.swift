/// How a payment was made; the feed's `channel` field.
public enum Channel: String, Sendable, Hashable, CaseIterable {
    case cardPresent = "card_present"
    case cardNotPresent = "card_not_present"
    case atm
    case transfer
}

/// A transaction as received on the feed, validated: the unit Vigil ingests and stores.
public struct Transaction: Sendable, Hashable {
    /// The sender's unique id for this transaction (idempotency key).
    public var id: String
    /// When the payment happened, per the sender (UTC).
    public var timestamp: Timestamp
    public var accountID: String
    public var cardID: String?
    public var amount: Money
    public var merchantID: String?
    /// ISO 18245 merchant category code, four digits.
    public var mcc: String?
    /// ISO 3166-1 alpha-2 country of the transaction.
    public var country: String?
    public var channel: Channel
    public var deviceID: String?
    public var ip: String?
    /// Degrees; location is not money, so a binary float is fine here.
    public var latitude: Double?
    public var longitude: Double?

    /// Creates a transaction; optional fields default to absent.
    public init(
        id: String, timestamp: Timestamp, accountID: String, cardID: String? = nil,
        amount: Money, merchantID: String? = nil, mcc: String? = nil, country: String? = nil,
        channel: Channel, deviceID: String? = nil, ip: String? = nil,
        latitude: Double? = nil, longitude: Double? = nil
    ) {
        self.id = id
        self.timestamp = timestamp
        self.accountID = accountID
        self.cardID = cardID
        self.amount = amount
        self.merchantID = merchantID
        self.mcc = mcc
        self.country = country
        self.channel = channel
        self.deviceID = deviceID
        self.ip = ip
        self.latitude = latitude
        self.longitude = longitude
    }
}
