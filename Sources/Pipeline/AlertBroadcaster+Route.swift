import Foundation
import HTTPAPI
import Hummingbird

extension AlertBroadcaster {
    /// `GET /alerts/stream`: server-sent events, resumed from stored alerts after the
    /// `Last-Event-ID` header when the client sends one; 503 when the stream is full.
    func streamResponse(_ request: Request, context: APIRequestContext, streams: StreamRegistry) throws -> Response {
        var lastEventID: Int64?
        let header = request.headers.first { $0.name.canonicalName == "last-event-id" }?.value
        if let text = header?.trimmingCharacters(in: .whitespaces), !text.isEmpty {
            guard let id = Int64(text), id >= 0 else {
                throw APIError(
                    .badRequest, code: "invalid_last_event_id",
                    message:
                        "Last-Event-ID \(text) is not an alert id; send the id: of the last event received, or no Last-Event-ID to start from now"
                )
            }
            lastEventID = id
        }
        guard let subscriber = subscribe(peer: context.remoteAddress, lastEventID: lastEventID) else {
            throw APIError(
                .serviceUnavailable, code: "too_many_subscribers",
                message: "the alert stream already has its \(limits.maxSubscribers) subscribers (--max-stream-subscribers); retry later",
                extraJSON: "\"max_subscribers\":\(limits.maxSubscribers)")
        }
        return streams.response(streaming: subscriber, context: context)
    }
}
