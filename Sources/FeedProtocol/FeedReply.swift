import VigilCore

/// One reply line of protocol v1, sent back on the connection a record arrived on.
public enum FeedReply: Sendable, Hashable {
    /// The record is stored (`duplicate`: it had been stored before, by an earlier send),
    /// with the decision its sender is to act on (nil only for a transaction stored before
    /// decisions were kept).
    case ack(id: String, duplicate: Bool, decision: TransactionDecision? = nil)
    /// The record was refused and stored in the rejects table with the reason.
    case nack(FeedRejection)

    /// Appends the reply as one JSON line, `\n` included, to `out` (reuse the buffer
    /// across replies to avoid allocating).
    public func encode(into out: inout [UInt8]) {
        switch self {
        case .ack(let id, let duplicate, let decision):
            Self.appendAck(id: id, duplicate: duplicate, decision: decision, to: &out)
        case .nack(let rejection):
            Self.appendNack(rejection, to: &out)
        }
    }

    /// Appends `{"ack":"ID"}` or `{"ack":"ID","duplicate":true}`, then the decision's
    /// `"decision"`, `"score"`, `"rules"`, `"ruleset"` (when a ruleset decided) and
    /// `"degraded"` (when the fallback answered), and a newline.
    public static func appendAck(id: String, duplicate: Bool = false, decision: TransactionDecision? = nil, to out: inout [UInt8]) {
        JSONWriter.appendRaw("{\"ack\":", to: &out)
        JSONText.appendQuoted(id, to: &out)
        if duplicate { JSONWriter.appendRaw(",\"duplicate\":true", to: &out) }
        if let decision { appendDecision(decision, to: &out) }
        JSONWriter.appendRaw("}\n", to: &out)
    }

    private static func appendDecision(_ decision: TransactionDecision, to out: inout [UInt8]) {
        switch decision.outcome {
        case .allow: JSONWriter.appendRaw(",\"decision\":\"allow\"", to: &out)
        case .review: JSONWriter.appendRaw(",\"decision\":\"review\"", to: &out)
        case .block: JSONWriter.appendRaw(",\"decision\":\"block\"", to: &out)
        }
        JSONWriter.appendRaw(",\"score\":", to: &out)
        JSONWriter.appendDecimal(UInt64(clamping: decision.score), to: &out)
        JSONWriter.appendRaw(",\"rules\":[", to: &out)
        for (index, rule) in decision.rules.enumerated() {
            if index > 0 { out.append(UInt8(ascii: ",")) }
            JSONText.appendQuoted(rule, to: &out)
        }
        out.append(UInt8(ascii: "]"))
        if !decision.ruleset.isEmpty {
            JSONWriter.appendRaw(",\"ruleset\":", to: &out)
            JSONText.appendQuoted(decision.ruleset, to: &out)
        }
        if let degraded = decision.degraded {
            JSONWriter.appendRaw(",\"degraded\":", to: &out)
            JSONText.appendQuoted(degraded.rawValue, to: &out)
        }
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
        if let leader = rejection.leader {
            JSONWriter.appendRaw(",\"leader\":", to: &out)
            JSONText.appendQuoted(leader, to: &out)
        }
        JSONWriter.appendRaw("}\n", to: &out)
    }

    /// The reply line as bytes (convenience for tests and tools).
    public var bytes: [UInt8] {
        var out: [UInt8] = []
        encode(into: &out)
        return out
    }
}
