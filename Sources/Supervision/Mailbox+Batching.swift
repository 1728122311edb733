/// Batching by count or time, for consumers that write in batches (Broadway's batchers).
extension Mailbox {
    /// Up to `maxCount` elements: waits (without limit) for the first one, then lingers at
    /// most `maxWait` for the batch to fill. Returns `nil` once finished and drained.
    ///
    /// If the consumer is cancelled while lingering it gets the partial batch, never loses it;
    /// cancelled before the first element it throws `CancellationError`.
    public func next(maxCount: Int, maxWait: Duration) async throws -> [Element]? {
        let maxCount = max(1, maxCount)
        guard var batch = try await self.next(maxCount: maxCount) else { return nil }
        if batch.count >= maxCount || maxWait <= .zero { return batch }
        let missing = maxCount - batch.count
        // Lingering ends at whichever comes first; either way the batch goes out.
        _ = try? await withTimeout(maxWait) { await self.waitForAvailable(minCount: missing) }
        batch.append(contentsOf: self.takeAvailable(maxCount: missing))
        return batch
    }

    /// The mailbox's elements as an async sequence of batches of up to `maxCount` elements,
    /// each waiting at most `maxWait` after its first element to fill up.
    public func batches(maxCount: Int, maxWait: Duration) -> MailboxBatches<Element> {
        MailboxBatches(mailbox: self, maxCount: maxCount, maxWait: maxWait)
    }
}
