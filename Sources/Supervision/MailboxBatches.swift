/// An async sequence of batches from a ``Mailbox``; see ``Mailbox/batches(maxCount:maxWait:)``.
/// Iterate it from one task only: the mailbox has one consumer.
public struct MailboxBatches<Base: Sendable>: AsyncSequence, Sendable {
    /// A batch of elements.
    public typealias Element = [Base]
    let mailbox: Mailbox<Base>
    let maxCount: Int
    let maxWait: Duration

    /// Creates the iterator.
    public func makeAsyncIterator() -> Iterator {
        Iterator(mailbox: self.mailbox, maxCount: self.maxCount, maxWait: self.maxWait)
    }

    /// Pulls one batch at a time from the mailbox.
    public struct Iterator: AsyncIteratorProtocol {
        let mailbox: Mailbox<Base>
        let maxCount: Int
        let maxWait: Duration

        /// The next batch, or `nil` when the mailbox is finished and drained.
        public mutating func next() async throws -> [Base]? {
            try await self.mailbox.next(maxCount: self.maxCount, maxWait: self.maxWait)
        }
    }
}
