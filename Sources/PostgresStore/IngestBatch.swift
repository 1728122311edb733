import VigilCore

/// A valid transaction encoded once as its `transactions` row, with its content digest:
/// what the store takes. Stages that run in parallel build it, so the serial writer only
/// concatenates rows; this initializer is the one place a transaction row is encoded.
public struct TransactionRow: Sendable {
    /// The transaction.
    public let transaction: Transaction
    /// The exact line it arrived as (stored as the raw payload, and kept with an id conflict).
    public let rawLine: [UInt8]
    /// The sender's address, kept with the record if it is rejected as an id conflict.
    public let peer: String?
    /// The `ContentDigest` of the transaction (tells a replay from an id conflict).
    public let digest: ContentDigest
    /// The row in COPY text.
    let copyRow: [UInt8]

    /// The decision stored with the row (the sender's answer; a replay gets it back).
    public let decision: TransactionDecision?

    /// Encodes `transaction`'s row and digest; `session` is the `feed_sessions` id of the
    /// connection that sent it (who said what), `decision` what its sender is answered.
    public init(
        _ transaction: Transaction, rawLine: [UInt8], peer: String? = nil, session: Int64? = nil, decision: TransactionDecision? = nil
    ) {
        var encoder = CopyTextEncoder(capacity: rawLine.count + 240)
        digest = encoder.appendTransactionRow(transaction, rawLine: rawLine, session: session, decision: decision)
        self.decision = decision
        copyRow = encoder.bytes
        self.transaction = transaction
        self.rawLine = rawLine
        self.peer = peer
    }
}

/// A feed line that failed validation, as stored in `rejected_records`.
public struct RejectedLine: Sendable, Hashable {
    /// The record's id, when it could be read.
    public var recordID: String?
    /// The nack's error code, e.g. `invalid_amount`.
    public var errorCode: String
    /// The nack's message.
    public var message: String
    /// The line's bytes (possibly only a prefix, for an over-long line).
    public var rawLine: [UInt8]
    /// The connection's remote address.
    public var peer: String?
    /// For an id conflict: the content digest stored under the id (nil when it was
    /// stored before digests were kept) and the one this record carried.
    public var storedDigest: ContentDigest?
    public var receivedDigest: ContentDigest?

    /// Creates a rejected line.
    public init(
        recordID: String?, errorCode: String, message: String, rawLine: [UInt8], peer: String?,
        storedDigest: ContentDigest? = nil, receivedDigest: ContentDigest? = nil
    ) {
        self.recordID = recordID
        self.errorCode = errorCode
        self.message = message
        self.rawLine = rawLine
        self.peer = peer
        self.storedDigest = storedDigest
        self.receivedDigest = receivedDigest
    }

    /// The raw bytes as text: valid UTF-8 kept, each invalid byte written `\xNN`, so
    /// an operator can read it and nothing is lost (the exact bytes go to `raw_bytes`).
    public var escapedText: String { UTF8Validation.readableText(rawLine) }
}

/// What happened to one transaction of a stored batch, in the batch's order (rejected
/// lines have no outcome: they are always stored in `rejected_records`).
public enum IngestOutcome: Sendable, Hashable {
    /// Stored now.
    case stored
    /// Its id was already stored (by an earlier send or earlier in this batch): stored once.
    case duplicate
    /// The database refused this record (e.g. a value PostgreSQL cannot hold); it was
    /// stored in `rejected_records` with this reason instead.
    case refusedByDatabase(message: String)
    /// Its id was already stored (earlier, or earlier in this batch) with different
    /// content: not stored, kept in `rejected_records` (code `id_conflict`, both digests)
    /// with this message for the sender.
    case idConflict(message: String, stored: ContentDigest, received: ContentDigest)
}
