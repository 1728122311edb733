import Enrichment
import FeedServer
import PostgresStore

/// A record travelling through the pipeline's stages, from the feed to the writer.
///
/// The detection worker that owns the record's account adds what it decided; the
/// writer stores the record and that decision in one database transaction, then
/// answers the sender.
public struct PipelineItem: Sendable {
    /// The record as read from the feed, with its way back to the sender.
    public var record: FeedRecord
    /// What detection decided (nil for rejected lines and known replays).
    public var detection: Detection?
    /// The transaction's `transactions` row in COPY text, encoded by the detection worker
    /// (workers run in parallel; the writer is serial and only concatenates).
    public var copyRow: [UInt8]?
    /// The transaction's content digest, computed with `copyRow` (the writer tells a
    /// replay from an id conflict by it).
    public var contentDigest: ContentDigest?

    /// Creates an item that has not been through detection.
    public init(record: FeedRecord, detection: Detection? = nil) {
        self.record = record
        self.detection = detection
    }

    /// The record as the store takes it.
    var ingestRecord: IngestRecord {
        switch record.payload {
        case .transaction(let transaction):
            return .accepted(transaction, rawLine: record.rawLine, copyRow: copyRow, digest: contentDigest, peer: record.peer)
        case .rejected(let rejection):
            return .rejected(RejectedLine(
                recordID: rejection.recordID, errorCode: rejection.code.rawValue,
                message: rejection.message, rawLine: record.rawLine, peer: record.peer
            ))
        }
    }
}

/// What detection decided for one transaction.
public struct Detection: Sendable {
    /// Every rule that hit, alert and shadow mode.
    public var hits: [RuleHitRecord]
    /// The alert to raise, when alert-mode rules hit.
    public var alert: AlertRecord?
    /// The ruleset version that decided.
    public var rulesetVersion: String
    /// The account's profile after this transaction, to checkpoint with the batch.
    public var profile: AccountProfile
    /// Dated more than the allowed lateness before its account's newest transaction:
    /// kept out of windows and the profile, stored with `late = true`.
    public var late = false
    /// The hits as `rule_hits` rows in COPY text (encoded by the worker, off the writer's path).
    var hitRows: [UInt8] = []
    /// The alert-mode hits as the alert's `rules` JSON, when there is an alert.
    var alertRulesJSON: String?

    /// Creates a detection result.
    public init(hits: [RuleHitRecord], alert: AlertRecord?, rulesetVersion: String, profile: AccountProfile) {
        self.hits = hits
        self.alert = alert
        self.rulesetVersion = rulesetVersion
        self.profile = profile
    }
}
