import FeedServer
import Metrics
import Supervision
import VigilCore

/// The feed's entry into the pipeline. A valid transaction goes to the detection
/// worker that owns its account (so each account's order is kept and its state has
/// one owner); a rejected line goes straight to the writer to be stored and nacked.
/// Every hand-over waits while the next mailbox is full: that wait is the backpressure
/// that stops the feed connection from reading its socket.
public struct IngestSink: FeedSink {
    let partitions: [Mailbox<FeedRecord>]
    let writer: Mailbox<PipelineItem>
    let partitionOf: @Sendable (String) -> Int
    /// Sends a record whose id is in flight after the earlier one (see `InFlightIDs`);
    /// the writer releases each id after its commit.
    let inFlight: InFlightIDs?
    /// Stored with a transaction that reaches the writer without detection, if it is new.
    let notEvaluated: TransactionDecision

    /// Creates a sink that routes to detection `partitions` and the `writer`.
    public init(
        partitions: [Mailbox<FeedRecord>], writer: Mailbox<PipelineItem>, partitionOf: @escaping @Sendable (String) -> Int,
        inFlight: InFlightIDs? = nil, notEvaluated: TransactionDecision = .fallback(.review, reason: .notEvaluated)
    ) {
        self.notEvaluated = notEvaluated
        self.partitions = partitions
        self.writer = writer
        self.partitionOf = partitionOf
        self.inFlight = inFlight
    }

    /// The partition each transaction goes to (its account's, unless its id is in flight
    /// elsewhere); nil for a record that goes to the writer.
    private func route(_ records: [FeedRecord]) -> [Int?] {
        guard !partitions.isEmpty else { return records.map { _ in nil } }
        var claims: [(id: String, proposed: Int)] = []
        var targets = [Int?](repeating: nil, count: records.count)
        for index in records.indices {
            guard case .transaction(let transaction) = records[index].payload else { continue }
            let proposed = min(max(partitionOf(transaction.accountID), 0), partitions.count - 1)
            targets[index] = proposed
            claims.append((transaction.id, proposed))
        }
        guard let inFlight, !claims.isEmpty else { return targets }
        var routed = inFlight.route(claims).makeIterator()
        for index in targets.indices where targets[index] != nil { targets[index] = routed.next() }
        return targets
    }

    /// Groups the records by the mailbox they go to (keeping their order within each)
    /// and hands each group over at once: one wake-up per group, not per record.
    public func submit(contentsOf records: [FeedRecord]) async throws(FeedSubmitError) {
        let targets = partitions.count + 1  // the last one is the writer
        var groups = [[Int]](repeating: [], count: targets)
        var order: [Int] = []
        for (index, partition) in route(records).enumerated() {
            let target = partition ?? partitions.count
            if groups[target].isEmpty { order.append(target) }
            groups[target].append(index)
        }
        for (position, target) in order.enumerated() {
            do {
                if target == partitions.count {
                    try await writer.send(contentsOf: groups[target].map { PipelineItem(unevaluated: records[$0], decision: notEvaluated) })
                } else {
                    try await partitions[target].send(contentsOf: groups[target].map { records[$0] })
                }
            } catch {
                let left = order[position...].flatMap { groups[$0] }
                inFlight?.release(left.compactMap { records[$0].transactionID })
                throw FeedSubmitError(underlying: error, notHandedOver: left)
            }
        }
    }

    public func submit(_ record: FeedRecord) async throws {
        guard let partition = route([record])[0] else {
            return try await writer.send(PipelineItem(unevaluated: record, decision: notEvaluated))
        }
        do {
            try await partitions[partition].send(record)
        } catch {
            inFlight?.release(record.transactionID.map { [$0] } ?? [])
            throw error
        }
    }
}
