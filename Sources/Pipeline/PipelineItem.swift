import FeedServer
import PostgresStore

/// A record travelling through the pipeline's stages, from the feed to the writer.
///
/// Detection stages (enrich, evaluate) sit between ingest and the writer and add
/// their results here; the writer stores the record and what was decided about it in
/// one database transaction, then answers the sender.
public struct PipelineItem: Sendable {
    /// The record as read from the feed, with its way back to the sender.
    public var record: FeedRecord
    /// What detection decided, once it has run (nil for rejected lines).
    public var detection: Detection?

    /// Creates an item that has not been through detection.
    public init(record: FeedRecord, detection: Detection? = nil) {
        self.record = record
        self.detection = detection
    }

    /// The record as the store takes it.
    var ingestRecord: IngestRecord {
        switch record.payload {
        case .transaction(let transaction):
            return .accepted(transaction, rawLine: record.rawLine)
        case .rejected(let rejection):
            return .rejected(RejectedLine(
                recordID: rejection.recordID, errorCode: rejection.code.rawValue,
                message: rejection.message, rawLine: record.rawLine, peer: record.peer
            ))
        }
    }
}

/// The outcome of detection for one transaction (filled by the detection stage).
public struct Detection: Sendable {
    /// Rule hits to record (alert and shadow mode).
    public var hits: [RuleHitRecord]
    /// The alert to raise, when alert-mode rules hit.
    public var alert: AlertRecord?

    /// Creates a detection result.
    public init(hits: [RuleHitRecord] = [], alert: AlertRecord? = nil) {
        self.hits = hits
        self.alert = alert
    }
}
