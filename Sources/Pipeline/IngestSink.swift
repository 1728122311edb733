import FeedServer
import Metrics
import Supervision

/// The feed's entry into the pipeline: each record goes into a bounded mailbox, and
/// the feed connection waits while it is full (that wait is the backpressure).
public struct IngestSink: FeedSink {
    let mailbox: Mailbox<PipelineItem>

    /// Creates a sink that feeds `mailbox`.
    public init(mailbox: Mailbox<PipelineItem>) {
        self.mailbox = mailbox
    }

    public func submit(_ record: FeedRecord) async throws {
        try await mailbox.send(PipelineItem(record: record))
    }
}
