import FeedProtocol
import FeedServer
import Foundation
import ISO20022
import VigilCore

/// ISO 20022 credit transfers into the feed's ingest path: what `POST /api/v1/iso20022`
/// does with its body, without HTTP (the route only passes the body and the caller).
///
/// Each credit transfer of a `pacs.008.001.08` becomes a protocol v1 line, goes through the
/// card-number policy and the feed's validation, and is handed to the same sink as the
/// feed's records (detection, storage); the answer, after every transfer's commit, is a
/// `pacs.002` with one status per transfer.
public struct ISO20022Intake: Sendable {
    /// What the route sends back.
    public struct Response: Sendable, Equatable {
        /// 200 with a pacs.002; 400 for a body that is not a valid pacs.008; 503 when the
        /// pipeline is shutting down.
        public var status: Int
        public var contentType: String
        public var body: String
    }

    let sink: any FeedSink
    let decoder: FeedDecoder
    let panPolicy: PANPolicy
    /// The feed's admission (a standby of `--ha` refuses: its pipeline does not run).
    let admission: (@Sendable () -> FeedRejection?)?

    /// Creates the intake over the feed's sink and validation settings.
    public init(sink: any FeedSink, decoder: FeedDecoder, panPolicy: PANPolicy, admission: (@Sendable () -> FeedRejection?)? = nil) {
        self.admission = admission
        self.sink = sink
        self.decoder = decoder
        self.panPolicy = panPolicy
    }

    /// Handles one request body from `peer` (e.g. the caller's address and token name).
    public func handle(body: [UInt8], peer: String, now: Timestamp = .now()) async -> Response {
        if let refusal = admission?() {
            return Response(status: 503, contentType: "text/plain; charset=utf-8", body: refusal.message + "\n")
        }
        let message: Pacs008
        do {
            message = try Pacs008.parse(Data(body))
        } catch {
            return Response(status: 400, contentType: "text/plain; charset=utf-8", body: "\(error)\n")
        }
        let replies = ReplyQueue(capacity: message.transfers.count)
        var records: [FeedRecord] = []
        for transfer in message.transfers {
            guard let sequence = replies.tryReserve() else { break }
            let line = transfer.feedLine(messageID: message.messageID, createdAt: message.createdAt)
            let (payload, raw) = FeedServer.record(fromLine: line, decoder: decoder, panPolicy: panPolicy, now: now)
            records.append(FeedRecord(payload: payload, rawLine: raw, peer: peer, replies: replies, sequence: sequence))
        }
        do {
            try await sink.submit(contentsOf: records)
        } catch {
            replies.abandon(error.notHandedOver.map { records[$0].sequence })
            replies.close()
            return Response(
                status: 503, contentType: "text/plain; charset=utf-8", body: "the pipeline is not taking records (shutting down); retry\n")
        }
        replies.finishSubmitting()
        var answered: [FeedReply] = []
        while answered.count < records.count, await replies.nextReady(into: &answered) {}
        replies.written(answered.count)
        let statuses = answered.map(Pacs002.Status.init(reply:))
        let report = Pacs002.report(
            for: message, statuses: statuses, messageID: "vigil-" + String(now.microsecondsSinceEpoch, radix: 36), createdAt: now)
        return Response(status: 200, contentType: "application/xml; charset=utf-8", body: report)
    }
}
