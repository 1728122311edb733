import FeedProtocol
import VigilCore

/// Where the feed server hands each record it reads: the pipeline's entry.
public protocol FeedSink: Sendable {
    /// Accepts one record, suspending while the pipeline is full. That suspension is the
    /// backpressure: while it lasts the connection's socket is not read.
    func submit(_ record: FeedRecord) async throws

    /// Accepts the records of one read, in order. When it fails part-way it throws a
    /// ``FeedSubmitError`` naming the records not handed over (only those go unanswered).
    func submit(contentsOf records: [FeedRecord]) async throws(FeedSubmitError)
}

/// A batch was only partly handed to the pipeline.
public struct FeedSubmitError: Error {
    /// Why the hand-over stopped.
    public var underlying: any Error
    /// Indexes (into the submitted records) of those not handed over.
    public var notHandedOver: [Int]

    /// Creates the error.
    public init(underlying: any Error, notHandedOver: [Int]) {
        self.underlying = underlying
        self.notHandedOver = notHandedOver
    }
}

extension FeedSink {
    /// One by one, through ``submit(_:)``.
    public func submit(contentsOf records: [FeedRecord]) async throws(FeedSubmitError) {
        for index in records.indices {
            do {
                try await submit(records[index])
            } catch {
                throw FeedSubmitError(underlying: error, notHandedOver: Array(index..<records.count))
            }
        }
    }
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
    /// The connection's remote address, for the rejects table and logs; with mutual TLS
    /// followed by ` subject=` and the client certificate's subject.
    public var peer: String
    /// The connection's `feed_sessions` id (who sent it), when the listener assigned one.
    public var session: Int64?
    /// The connection's reply queue and this record's place in it.
    public let replies: ReplyQueue
    public let sequence: UInt64
    /// When the line was decoded: the decision budget and latency count from here.
    public let arrival: ContinuousClock.Instant
    /// Set once the sender was answered with the operator's fallback because detection
    /// did not decide within the budget; detection then still evaluates the record.
    public var fallback: TransactionDecision?
    /// Set when detection has taken the record to decide it (no fallback may be sent).
    public var claimed = false

    /// Creates a record.
    public init(payload: Payload, rawLine: [UInt8], peer: String, replies: ReplyQueue, sequence: UInt64, session: Int64? = nil) {
        self.payload = payload
        self.session = session
        self.rawLine = rawLine
        self.peer = peer
        self.replies = replies
        self.sequence = sequence
        self.arrival = .now
    }

    /// The transaction's id, for a valid transaction.
    public var transactionID: String? {
        if case .transaction(let transaction) = payload { return transaction.id }
        return nil
    }

    /// Sends the record's reply (written once every earlier reply on the connection is).
    public func reply(_ reply: FeedReply) {
        replies.complete(sequence, reply)
    }
}
