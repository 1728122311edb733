import FeedProtocol
import VigilCore

/// Where the feed server hands each record it reads: the pipeline's entry.
public protocol FeedSink: Sendable {
    /// Accepts one record, suspending while the pipeline is full. That suspension is the
    /// backpressure: while it lasts the connection's socket is not read.
    func submit(_ record: FeedRecord) async throws
}

/// One line read from a connection, decoded, with the way back to its sender.
public struct FeedRecord: Sendable {
    /// What the line turned out to be.
    public enum Payload: Sendable {
        /// A valid transaction.
        case transaction(Transaction)
        /// A line that failed validation (to be stored in the rejects table and nacked).
        case rejected(FeedRejection)
    }

    /// The decoded record or the reason it was refused.
    public var payload: Payload
    /// The line's bytes (for an over-long line, only its first bytes).
    public var rawLine: [UInt8]
    /// The connection's remote address, for the rejects table and logs.
    public var peer: String
    /// The connection's reply queue and this record's place in it.
    public let replies: ReplyQueue
    public let sequence: UInt64

    /// Creates a record.
    public init(payload: Payload, rawLine: [UInt8], peer: String, replies: ReplyQueue, sequence: UInt64) {
        self.payload = payload
        self.rawLine = rawLine
        self.peer = peer
        self.replies = replies
        self.sequence = sequence
    }

    /// Sends the record's reply (written once every earlier reply on the connection is).
    public func reply(_ reply: FeedReply) {
        replies.complete(sequence, reply)
    }
}
