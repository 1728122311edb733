/// Why a ``Mailbox`` operation failed.
public struct MailboxError: Error, Hashable, CustomStringConvertible {
    /// The kind of failure.
    public struct Code: Sendable, Hashable, CustomStringConvertible {
        private enum Base: Sendable, Hashable {
            case finished, concurrentReceive
        }

        private let base: Base

        /// The mailbox was finished before the elements could be enqueued; they were not.
        public static let finished = Code(base: .finished)
        /// A second consumer tried to receive while another one was waiting; a mailbox has one consumer.
        public static let concurrentReceive = Code(base: .concurrentReceive)

        /// The code's name.
        public var description: String {
            switch self.base {
            case .finished: return "finished"
            case .concurrentReceive: return "concurrentReceive"
            }
        }
    }

    /// The kind of failure.
    public var code: Code

    /// A message that says what happened and what to do.
    public var description: String {
        switch self.code {
        case .finished:
            return "mailbox is finished: the elements were not enqueued; stop producing or send to the new stage's mailbox"
        case .concurrentReceive:
            return "mailbox already has a waiting consumer: receive from one task only"
        default:
            return "mailbox error \(self.code)"
        }
    }
}
