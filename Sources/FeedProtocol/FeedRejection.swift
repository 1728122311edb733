/// Why a feed line was refused: the `nack` a sender receives and the reason stored
/// beside the raw line in the rejects table.
///
/// Built only on the rejection path, so it may own `String`s; the accepted path never
/// creates one.
public struct FeedRejection: Error, Sendable, Hashable, CustomStringConvertible {
    /// Machine-readable error codes of protocol v1; the raw value is what goes on the wire.
    public enum Code: String, Sendable, Hashable, CaseIterable {
        /// The line is not one well-formed JSON object.
        case invalidJSON = "invalid_json"
        /// The line contains bytes that are not UTF-8.
        case invalidUTF8 = "invalid_utf8"
        /// A required field is absent (or `null`).
        case missingField = "missing_field"
        /// A field has the wrong JSON type, e.g. a number where a string is required.
        case invalidFieldType = "invalid_field_type"
        /// `id` or another identifier field is empty, too long or has control characters.
        case invalidID = "invalid_id"
        /// `amount` is not a positive decimal string within the currency's precision and range.
        case invalidAmount = "invalid_amount"
        /// `currency` is not an active ISO 4217 code.
        case invalidCurrency = "invalid_currency"
        /// `timestamp` is not RFC 3339 or lies outside the accepted window.
        case invalidTimestamp = "invalid_timestamp"
        /// `channel` is not one of the protocol's channels.
        case unknownChannel = "unknown_channel"
        /// `country` is not an ISO 3166-1 alpha-2 code.
        case invalidCountry = "invalid_country"
        /// `mcc` is not four digits.
        case invalidMCC = "invalid_mcc"
        /// `lat`/`lon` are out of range or only one of them is present.
        case invalidLocation = "invalid_location"
        /// `ip` is not an IPv4 or IPv6 address.
        case invalidIP = "invalid_ip"
        /// The line exceeds the framing layer's limit (64 KiB in v1).
        case lineTooLong = "line_too_long"
        /// A known field occurs more than once in the object.
        case duplicateField = "duplicate_field"
        /// The record passed validation but PostgreSQL refused to store it (the message
        /// says why); it is kept in the rejects table like any other refused line.
        case storageRefused = "storage_refused"
        /// A line was begun but not finished (no `\n`) within the listener's line
        /// timeout; the connection is closed after this reply (slow senders, slow loris).
        case lineTimeout = "line_timeout"
        /// The listener is at its connection limit; this reply is the only line the
        /// connection gets before it is closed. Not a record's reply: no id, nothing stored.
        case tooManyConnections = "too_many_connections"
        /// The record's id was already stored with different content (a replay carries
        /// the same content and is acked as a duplicate); it is kept in the rejects table
        /// and the stored transaction is unchanged. Send a new transaction with a new id.
        case idConflict = "id_conflict"
        /// A string field holds what looks like a primary account number (13–19 digits
        /// passing the Luhn check). The feed carries card tokens or fingerprints, never
        /// PANs; the stored raw line has the number masked (first 6 and last 4 kept).
        case panNotAllowed = "pan_not_allowed"
        /// An ISO 8583 frame that is not a well-formed message of the listener's dialect or
        /// not a request Vigil answers; the message names the ISO problem (bad bitmap,
        /// field too long, ...), the field and the byte offset.
        case invalidISO8583 = "invalid_iso8583"
        /// This node is a standby of a high-availability pair (`vigil serve --ha`): the
        /// connection's only line before it is closed; `leader` says where the leader's
        /// feed is, when known. Not a record's reply: no id, nothing stored.
        case notLeader = "not_leader"
    }

    /// What was wrong.
    public var code: Code
    /// The record's `id` when it could be read before the problem, so the sender can match the nack.
    public var recordID: String?
    /// The offending field's wire name, when the problem is in one field.
    public var field: String?
    /// A sentence for a human that names the field and says what is expected.
    public var message: String
    /// Where the leader's feed listens (`host:port`), on a `not_leader` refusal.
    public var leader: String?

    /// Creates a rejection.
    public init(code: Code, recordID: String? = nil, field: String? = nil, message: String) {
        self.code = code
        self.recordID = recordID
        self.field = field
        self.message = message
    }

    /// The rejection the framing layer sends for a line longer than `limit` bytes.
    public static func lineTooLong(limit: Int) -> FeedRejection {
        FeedRejection(
            code: .lineTooLong,
            message: "line exceeds the \(limit)-byte limit; send one transaction per line of at most \(limit) bytes"
        )
    }

    /// The rejection of a line left unfinished for `timeout` (`received` bytes had come).
    public static func lineTimeout(after timeout: Duration, received: Int) -> FeedRejection {
        FeedRejection(
            code: .lineTimeout,
            message: "a line was not completed within \(timeout) of its first byte (\(received) bytes, no newline); "
                + "send each record as one whole line ending in \\n and re-send this one on a new connection"
        )
    }

    /// The one line a connection over the listener's limit receives before it is closed.
    public static func tooManyConnections(limit: Int) -> FeedRejection {
        FeedRejection(
            code: .tooManyConnections,
            message: "the feed is at its limit of \(limit) connections; retry with backoff, "
                + "or send on one of your open connections (one connection carries thousands of records a second)"
        )
    }

    /// The one line a standby's feed connection receives before it is closed.
    public static func notLeader(leader: String?) -> FeedRejection {
        var rejection = FeedRejection(
            code: .notLeader,
            message: leader.map {
                "this Vigil node is a standby; send to the leader's feed at \($0) (vigil feed send and bench take several --host addresses and follow the leader)"
            } ?? "this Vigil node is a standby and no node holds the lead just now (a takeover is under way); retry in a second or on another node")
        rejection.leader = leader
        return rejection
    }

    /// The rejection of a line that carries a card number, shown `masked` (first 6 and last 4 digits).
    public static func panNotAllowed(recordID: String?, masked: String) -> FeedRejection {
        FeedRejection(
            code: .panNotAllowed, recordID: recordID,
            message: "the record carries a primary account number (\(masked)); send a card token or fingerprint "
                + "in card_id instead of the card number (PCI DSS), or ask the operator for --pan-policy tokenize"
        )
    }

    public var description: String {
        "\(code.rawValue)\(field.map { " (\($0))" } ?? ""): \(message)"
    }
}
