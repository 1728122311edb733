import FeedProtocol

/// The field 39 codes Vigil answers with: the one place the outcome of a request becomes
/// an ISO 8583 response code. Each can be changed by configuration.
public struct ISO8583ResponseCodes: Sendable, Hashable {
    /// What detection decided about a transaction (the decision the ack will carry).
    public enum Decision: String, Sendable, Hashable, CaseIterable {
        case allow, review, block
    }

    /// Allowed (and, until decisions are carried by the ack, every stored transaction): `00`.
    public var allow: String
    /// Held for review: `00` by default (approve, investigate after); some hosts want `01`.
    public var review: String
    /// Blocked: `05` (do not honour) by default; `59` (suspected fraud) is the other common choice.
    public var block: String
    /// The request was malformed or refused by validation (including a card number under
    /// `--pan-policy reject`): `30` (format error).
    public var formatError: String
    /// The correlation key was already used for a different transaction: `94` (duplicate transmission).
    public var duplicate: String
    /// PostgreSQL refused to store the request: `96` (system malfunction).
    public var systemError: String
    /// This node does not hold the lead (a standby, or a leader that lost its lease), so it
    /// stores nothing: `91` (issuer or switch inoperative), which acquirers retry elsewhere
    /// or later, where a format error would tell them the message itself was wrong.
    public var unavailable: String

    /// Creates the codes; the defaults are the common ISO 8583:1987 meanings.
    public init(
        allow: String = "00", review: String = "00", block: String = "05", formatError: String = "30", duplicate: String = "94",
        systemError: String = "96", unavailable: String = "91"
    ) {
        self.allow = allow
        self.review = review
        self.block = block
        self.formatError = formatError
        self.duplicate = duplicate
        self.systemError = systemError
        self.unavailable = unavailable
    }

    /// The code for a decision.
    public func code(for decision: Decision) -> String {
        switch decision {
        case .allow: allow
        case .review: review
        case .block: block
        }
    }

    /// The code answering a feed reply. An ack is a stored transaction answered with the
    /// code of its decision (a duplicate carries the stored decision, so it gets the stored
    /// response); a transaction stored before decisions were kept is answered as allowed.
    public func code(for reply: FeedReply) -> String {
        switch reply {
        case .ack(_, _, let decision):
            switch decision?.outcome {
            case .block: return code(for: .block)
            case .review: return code(for: .review)
            case .allow, nil: return code(for: .allow)
            }
        case .nack(let rejection):
            switch rejection.code {
            case .idConflict: return duplicate
            case .storageRefused: return systemError
            case .notLeader: return unavailable
            default: return formatError
            }
        }
    }

    /// Checks every code is two printable ASCII characters (field 39 is `an 2`); the
    /// message names the setting.
    public func validate() -> String? {
        let named = [
            ("allow", allow), ("review", review), ("block", block), ("format-error", formatError), ("duplicate", duplicate),
            ("system-error", systemError), ("unavailable", unavailable),
        ]
        for (name, code) in named where code.utf8.count != 2 || !code.utf8.allSatisfy({ $0 &- 0x30 < 10 || $0 &- 0x41 < 26 }) {
            return "the ISO 8583 response code for \(name) must be two digits or upper-case letters (field 39), not \"\(code)\""
        }
        return nil
    }
}

extension ISO8583Mapper {
    /// Fields of a request copied into its response (never card data): processing code,
    /// amount, times, STAN, acquirer, RRN, terminal, card acceptor, currency, network
    /// management code, original data elements.
    public static let responseEchoFields = [3, 4, 7, 11, 12, 13, 32, 37, 41, 42, 49, 70, 90]

    /// The response to `request` with field 39 `code`; nil when `request` is not a request.
    public static func response(to request: ISO8583Message, code: String) -> ISO8583Message? {
        guard let mti = responseMTI(for: request.mti) else { return nil }
        var response = ISO8583Message(mti: mti)
        response.reserveCapacity(fields: responseEchoFields.count + 1, bytes: 160)
        for field in responseEchoFields {
            if let value = request.slice(field) { response.set(field, value) }
        }
        response.set(39, code.utf8)
        return response
    }
}
