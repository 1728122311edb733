import VigilCore

/// Decodes one protocol v1 line into a validated `Transaction`, or says precisely why not.
///
/// The hot path of ingest: one pass over the bytes with ``JSONScanner``, then each known
/// field validated from its byte range. It allocates nothing but the `String`s the
/// `Transaction` holds (and those up to 15 UTF-8 bytes are stored inline by Swift).
/// Never traps, whatever the bytes.
public struct FeedDecoder: Sendable {
    /// Limits the decoder enforces beyond the protocol's syntax.
    public struct Configuration: Sendable, Hashable {
        /// How far a timestamp may lie ahead of `now` (clock skew, time zones gone wrong).
        public var maximumFutureSkew: Duration
        /// How far a timestamp may lie behind `now` before it is taken for garbage.
        public var maximumAge: Duration
        /// Nesting allowed inside unknown members (the top-level object is depth 1).
        public var maximumDepth: Int
        /// Longest identifier (`id`, `account_id`, ...) in UTF-8 bytes.
        public var maximumIDLength: Int
        /// Largest amount in major units (e.g. euros), whatever the currency.
        public var maximumMajorUnits: Int64

        /// Creates a configuration; the defaults suit a production feed.
        public init(
            maximumFutureSkew: Duration = .seconds(86_400),
            maximumAge: Duration = .seconds(10 * 366 * 86_400),
            maximumDepth: Int = 32,
            maximumIDLength: Int = 128,
            maximumMajorUnits: Int64 = 1_000_000_000_000
        ) {
            self.maximumFutureSkew = maximumFutureSkew
            self.maximumAge = maximumAge
            self.maximumDepth = maximumDepth
            self.maximumIDLength = maximumIDLength
            self.maximumMajorUnits = maximumMajorUnits
        }
    }

    /// The limits in force.
    public let configuration: Configuration
    let futureSkewMicros: Int64
    let maximumAgeMicros: Int64

    /// Creates a decoder.
    public init(configuration: Configuration = Configuration()) {
        self.configuration = configuration
        futureSkewMicros = Self.microseconds(configuration.maximumFutureSkew)
        maximumAgeMicros = Self.microseconds(configuration.maximumAge)
    }

    /// Decodes one line (without its `\n`; a trailing `\r` is whitespace) received at `now`.
    public func decode(_ line: UnsafeRawBufferPointer, now: Timestamp) throws(FeedRejection) -> Transaction {
        try decode(line.assumingMemoryBound(to: UInt8.self), now: now)
    }

    /// Decodes one line (without its `\n`) received at `now`.
    public func decode(_ line: UnsafeBufferPointer<UInt8>, now: Timestamp) throws(FeedRejection) -> Transaction {
        var fields = RawFields(bytes: line)
        try fields.scan(maximumDepth: configuration.maximumDepth)
        var validator = FieldValidator(fields: fields, decoder: self, now: now)
        return try validator.transaction()
    }

    /// Decodes one line from any byte collection (contiguous storage is used in place).
    public func decode(_ line: some Collection<UInt8>, now: Timestamp) throws(FeedRejection) -> Transaction {
        let result: Result<Transaction, FeedRejection>? = line.withContiguousStorageIfAvailable { buffer in
            Result { () throws(FeedRejection) -> Transaction in try decode(buffer, now: now) }
        }
        if let result { return try result.get() }
        let copy = Array(line)
        return try copy.withUnsafeBufferPointer { buffer throws(FeedRejection) -> Transaction in
            try decode(buffer, now: now)
        }
    }

    /// A `Duration` in whole microseconds, saturating instead of overflowing.
    static func microseconds(_ duration: Duration) -> Int64 {
        let (seconds, attoseconds) = duration.components
        let (scaled, overflow) = seconds.multipliedReportingOverflow(by: 1_000_000)
        if overflow { return seconds < 0 ? .min : .max }
        let (sum, overflow2) = scaled.addingReportingOverflow(attoseconds / 1_000_000_000_000)
        return overflow2 ? (seconds < 0 ? .min : .max) : sum
    }
}
