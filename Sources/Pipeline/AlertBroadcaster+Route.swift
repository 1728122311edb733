import Foundation
import NIOHTTP1
import VigilCore

extension AlertBroadcaster {
    /// `GET /alerts/stream`: server-sent events, resumed from stored alerts after the
    /// `Last-Event-ID` header when the client sends one; 503 when the stream is full.
    var streamRoute: OpsServer.StreamRoute {
        { [self] head, peer in
            var lastEventID: Int64?
            if let text = head.headers.first(name: "last-event-id")?.trimmingCharacters(in: .whitespaces), !text.isEmpty {
                guard let id = Int64(text), id >= 0 else {
                    return .full(
                        status: .badRequest, contentType: "application/json",
                        body: Self.errorBody(
                            "invalid_last_event_id",
                            "Last-Event-ID \(text) is not an alert id; send the id: of the last event received, or no Last-Event-ID to start from now"
                        ))
                }
                lastEventID = id
            }
            guard let subscriber = subscribe(peer: peer, lastEventID: lastEventID) else {
                return .full(
                    status: .serviceUnavailable, contentType: "application/json",
                    body: Self.errorBody(
                        "too_many_subscribers",
                        "the alert stream already has its \(limits.maxSubscribers) subscribers (--max-stream-subscribers); retry later",
                        extra: ",\"max_subscribers\":\(limits.maxSubscribers)"
                    ))
            }
            return .stream(contentType: "text/event-stream", source: subscriber)
        }
    }

    private static func errorBody(_ code: String, _ message: String, extra: String = "") -> String {
        "{\"error\":\(JSONText.quoted(code)),\"message\":\(JSONText.quoted(message))\(extra)}\n"
    }
}
