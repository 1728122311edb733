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
        var buffer = ByteBuffer()
        buffer.reserveCapacity(alerts.count * 400)
        var events: [(id: Int64, end: Int)] = []
        events.reserveCapacity(alerts.count)
        for alert in alerts.sorted(by: { $0.id < $1.id }) {
            buffer.writeString(alert.serverSentEvent)
            events.append((alert.id, buffer.writerIndex))
        }
        self.events = events
        self.bytes = buffer
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
    /// Every string goes through `JSONText.quoted`, which escapes control characters (so
    /// no raw CR or LF can end the `data:` line) and U+2028/U+2029.
    var serverSentEvent: String {
        let rules =
            "["
            + rules.map { "{\"rule\":\(JSONText.quoted($0.ruleID)),\"score\":\($0.score),\"reason\":\(JSONText.quoted($0.reason))}" }.joined(
                separator: ",") + "]"
        let data =
            "{\"alert_id\":\(id),\"transaction_id\":\(JSONText.quoted(transactionID)),\"account_id\":\(JSONText.quoted(accountID)),"
            + "\"amount\":\(JSONText.quoted(amount.decimalString)),\"currency\":\(JSONText.quoted(amount.currency.code)),"
            + "\"severity\":\(JSONText.quoted(severity.rawValue)),\"total_score\":\(totalScore),\"rules\":\(rules),"
            + "\"ruleset_version\":\(JSONText.quoted(rulesetVersion))}"
        return "event: alert.created\nid: \(id)\ndata: \(data)\n\n"
    }
}
