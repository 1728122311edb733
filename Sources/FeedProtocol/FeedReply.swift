import VigilCore

/// One reply line of protocol v1, sent back on the connection a record arrived on.
public enum FeedReply: Sendable, Hashable {
    /// The record is stored (`duplicate`: it had been stored before, by an earlier send).
    case ack(id: String, duplicate: Bool)
    /// The record was refused and stored in the rejects table with the reason.
    case nack(FeedRejection)

    /// Appends the reply as one JSON line, `\n` included, to `out` (reuse the buffer
    /// across replies to avoid allocating).
    public func encode(into out: inout [UInt8]) {
        switch self {
        case .ack(let id, let duplicate):
            Self.appendAck(id: id, duplicate: duplicate, to: &out)
        case .nack(let rejection):
            Self.appendNack(rejection, to: &out)
        }
    }

    /// Appends `{"ack":"ID"}` or `{"ack":"ID","duplicate":true}` and a newline.
    public static func appendAck(id: String, duplicate: Bool = false, to out: inout [UInt8]) {
        JSONWriter.appendRaw("{\"ack\":", to: &out)
        JSONText.appendQuoted(id, to: &out)
        if duplicate { JSONWriter.appendRaw(",\"duplicate\":true", to: &out) }
        JSONWriter.appendRaw("}\n", to: &out)
    }

    /// Appends `{"nack":"ID"|null,"error":"code","message":"..."}` and a newline.
    public static func appendNack(_ rejection: FeedRejection, to out: inout [UInt8]) {
        JSONWriter.appendRaw("{\"nack\":", to: &out)
        if let id = rejection.recordID {
            JSONText.appendQuoted(id, to: &out)
        } else {
            JSONWriter.appendRaw("null", to: &out)
        }
        JSONWriter.appendRaw(",\"error\":", to: &out)
        JSONText.appendQuoted(rejection.code.rawValue, to: &out)
        JSONWriter.appendRaw(",\"message\":", to: &out)
        JSONText.appendQuoted(rejection.message, to: &out)
        JSONWriter.appendRaw("}\n", to: &out)
    }

    /// The reply line as bytes (convenience for tests and tools).
    public var bytes: [UInt8] {
        var out: [UInt8] = []
        encode(into: &out)
        return out
    }
}
