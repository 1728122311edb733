import NIOCore
import VigilCore

/// Committed alerts serialized once as server-sent events, shared by every subscriber.
///
/// The bytes of all the batch's events sit in one buffer; a subscriber that has already
/// seen some of them (it resumed from stored alerts) gets a slice of it, which shares the
/// storage instead of copying it.
struct SSEBatch: Sendable {
    /// Each event's alert id and where its bytes end, ids ascending.
    let events: [(id: Int64, end: Int)]
    let bytes: ByteBuffer

    /// Serializes `alerts` (sorted by id here, so slicing by id is a prefix cut).
    init(_ alerts: [CommittedAlert]) {
        var out: [UInt8] = []
        out.reserveCapacity(alerts.count * 512)
        var events: [(id: Int64, end: Int)] = []
        events.reserveCapacity(alerts.count)
        for alert in alerts.sorted(by: { $0.id < $1.id }) {
            alert.appendServerSentEvent(to: &out)
            events.append((alert.id, out.count))
        }
        self.events = events
        self.bytes = ByteBuffer(bytes: out)
    }

    /// Number of events.
    var count: Int { events.count }
    /// The newest alert id in the batch.
    var lastID: Int64? { events.last?.id }

    /// The events with an id above `lastSent` (all of them when `nil`), without copying.
    func bytes(after lastSent: Int64?) -> ByteBuffer? {
        guard let lastSent, let oldest = events.first?.id, oldest <= lastSent else { return events.isEmpty ? nil : bytes }
        guard let first = events.firstIndex(where: { $0.id > lastSent }) else { return nil }
        let start = first == 0 ? 0 : events[first - 1].end
        return bytes.getSlice(at: bytes.readerIndex + start, length: bytes.readableBytes - start)
    }
}

/// The other events of `/alerts/stream`, besides `alert.created`.
enum ServerSentEvent {
    /// First bytes of every stream: a comment (so proxies see traffic at once) and the
    /// reconnection delay browsers' `EventSource` should use.
    static let greeting = ByteBuffer(string: ": vigil alert stream\nretry: 2000\n\n")

    /// The last event to a subscriber that fell too far behind. It has no `id:`, so the
    /// client's last event id stays the last alert it received.
    static func overflow(lastSent: Int64?, buffered: Int) -> ByteBuffer {
        let resume =
            lastSent.map { "reconnect with Last-Event-ID: \($0) to resume from stored alerts" }
            ?? "reconnect to resume"
        let data =
            "{\"error\":\"overflow\",\"last_event_id\":\(lastSent.map(String.init) ?? "null"),\"buffer\":\(buffered),"
            + "\"message\":\(JSONText.quoted("this client fell more than \(buffered) alerts behind and was disconnected; \(resume)"))}"
        return ByteBuffer(string: "event: overflow\ndata: \(data)\n\n")
    }

    /// The last event when stored alerts could not be read for a resume.
    static func replayFailed(after: Int64, reason: String) -> ByteBuffer {
        let data =
            "{\"error\":\"replay_failed\",\"last_event_id\":\(after),"
            + "\"message\":\(JSONText.quoted("could not read stored alerts after \(after) (\(reason)); reconnect with the same Last-Event-ID to retry"))}"
        return ByteBuffer(string: "event: error\ndata: \(data)\n\n")
    }
}

extension CommittedAlert {
    /// The alert as one server-sent event; its `id:` is the alert's id, which orders alerts.
    /// Every string goes through `JSONText.appendQuoted`, which escapes control characters
    /// (so no raw CR or LF can end the `data:` line) and U+2028/U+2029. Written straight
    /// into the batch's bytes: no intermediate strings.
    func appendServerSentEvent(to out: inout [UInt8]) {
        func raw(_ text: StaticString) {
            text.withUTF8Buffer { out.append(contentsOf: $0) }
        }
        func number(_ value: some BinaryInteger) { out.append(contentsOf: String(value).utf8) }
        raw("event: alert.created\nid: ")
        number(id)
        raw("\ndata: {\"alert_id\":")
        number(id)
        raw(",\"transaction_id\":")
        JSONText.appendQuoted(transactionID, to: &out)
        raw(",\"account_id\":")
        JSONText.appendQuoted(accountID, to: &out)
        raw(",\"amount\":")
        JSONText.appendQuoted(amount.decimalString, to: &out)
        raw(",\"currency\":")
        JSONText.appendQuoted(amount.currency.code, to: &out)
        raw(",\"severity\":")
        JSONText.appendQuoted(severity.rawValue, to: &out)
        raw(",\"total_score\":")
        number(totalScore)
        raw(",\"rules\":[")
        for (index, hit) in rules.enumerated() {
            raw(index == 0 ? "{\"rule\":" : ",{\"rule\":")
            JSONText.appendQuoted(hit.ruleID, to: &out)
            raw(",\"score\":")
            number(hit.score)
            raw(",\"reason\":")
            JSONText.appendQuoted(hit.reason, to: &out)
            raw("}")
        }
        raw("],\"ruleset_version\":")
        JSONText.appendQuoted(rulesetVersion, to: &out)
        if let createdAt {
            raw(",\"created_at\":\"")
            out.append(contentsOf: RFC3339.format(createdAt).utf8)
            raw("\"")
        }
        raw("}\n\n")
    }
}
