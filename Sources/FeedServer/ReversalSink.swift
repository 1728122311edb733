import FeedProtocol
import ISO8583

/// Where an ISO 8583 listener hands reversals (0400/0420): stored, then answered.
public protocol ReversalSink: Sendable {
    /// Accepts one reversal, suspending while the store is busy (backpressure, as for records).
    func submit(_ reversal: ReversalRecord) async throws
}

/// A reversal read from a connection, with the way back to its sender.
public struct ReversalRecord: Sendable {
    /// What is reversed.
    public var reversal: ISO8583Reversal
    /// The connection's remote address (and client certificate subject).
    public var peer: String
    /// The connection's `feed_sessions` id.
    public var session: Int64?
    let replies: ReplyQueue
    let sequence: UInt64

    /// Creates a record (tests; the listener makes them).
    public init(reversal: ISO8583Reversal, peer: String, session: Int64?, replies: ReplyQueue, sequence: UInt64) {
        self.reversal = reversal
        self.peer = peer
        self.session = session
        self.replies = replies
        self.sequence = sequence
    }

    /// Answers the reversal once it is stored (`ack`, `duplicate` for a repeat) or refused (`nack`).
    public func reply(_ reply: FeedReply) {
        replies.complete(sequence, reply)
    }
}
