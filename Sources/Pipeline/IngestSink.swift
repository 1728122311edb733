import FeedServer
import Metrics
import Supervision

/// The feed's entry into the pipeline. A valid transaction goes to the detection
/// worker that owns its account (so each account's order is kept and its state has
/// one owner); a rejected line goes straight to the writer to be stored and nacked.
/// Every hand-over waits while the next mailbox is full: that wait is the backpressure
/// that stops the feed connection from reading its socket.
public struct IngestSink: FeedSink {
    let partitions: [Mailbox<PipelineItem>]
    let writer: Mailbox<PipelineItem>
    let partitionOf: @Sendable (String) -> Int

    /// Creates a sink that routes to detection `partitions` and the `writer`.
    public init(partitions: [Mailbox<PipelineItem>], writer: Mailbox<PipelineItem>, partitionOf: @escaping @Sendable (String) -> Int) {
        self.partitions = partitions
        self.writer = writer
        self.partitionOf = partitionOf
    }

    /// Groups the records by the mailbox they go to (keeping their order within each)
    /// and hands each group over at once: one wake-up per group, not per record.
    public func submit(contentsOf records: [FeedRecord]) async throws(FeedSubmitError) {
        let targets = partitions.count + 1  // the last one is the writer
        var groups = [[Int]](repeating: [], count: targets)
        var order: [Int] = []
        for index in records.indices {
            let target: Int
            if case .transaction(let transaction) = records[index].payload, !partitions.isEmpty {
                target = min(max(partitionOf(transaction.accountID), 0), partitions.count - 1)
            } else {
                target = partitions.count
            }
            if groups[target].isEmpty { order.append(target) }
            groups[target].append(index)
        }
        for (position, target) in order.enumerated() {
            let mailbox = target == partitions.count ? writer : partitions[target]
            do {
                try await mailbox.send(contentsOf: groups[target].map { PipelineItem(record: records[$0]) })
            } catch {
                let left = order[position...].flatMap { groups[$0] }
                throw FeedSubmitError(underlying: error, notHandedOver: left)
            }
        }
    }

    public func submit(_ record: FeedRecord) async throws {
        switch record.payload {
        case .transaction(let transaction) where !partitions.isEmpty:
            let index = partitionOf(transaction.accountID)
            try await partitions[min(max(index, 0), partitions.count - 1)].send(PipelineItem(record: record))
        default:
            try await writer.send(PipelineItem(record: record))
        }
    }
}
