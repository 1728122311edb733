import FeedProtocol

/// How the feed listener behaves; every value has a production default.
public struct FeedServerConfiguration: Sendable {
    /// Address to bind, e.g. `0.0.0.0` or `127.0.0.1`.
    public var host: String
    /// TCP port; 0 picks a free one (tests).
    public var port: Int
    /// Longest accepted line in bytes (protocol v1: 64 KiB).
    public var maximumLineLength: Int
    /// Records read from one connection but not yet answered, at most. A client that
    /// does not read its acks is not read from beyond this.
    public var maximumUnansweredPerConnection: Int
    /// Socket reads (each the lines it completed) buffered between the socket and the
    /// connection's reader (NIO backpressure); a read is at most a few tens of KiB.
    public var readBufferLowWatermark: Int
    public var readBufferHighWatermark: Int
    /// On graceful shutdown, how long connections get to receive their last acks before
    /// they are closed regardless.
    public var drainTimeout: Duration
    /// `SO_SNDBUF` for connections; `nil` keeps the kernel's (auto-tuned) default.
    public var socketSendBufferSize: Int32?
    /// Validation settings for feed lines.
    public var decoder: FeedDecoder.Configuration
    /// Open feed connections at most; one more is sent a `too_many_connections` nack
    /// and closed. Defaults to the file-descriptor limit less a reserve
    /// (see ``FileDescriptorBudget``), so the rest of the process keeps working.
    public var maximumConnections: Int
    /// A connection that sends nothing for this long, with no record of its waiting for
    /// a reply, is closed; `nil` never closes one. Time the listener is not reading the
    /// connection (backpressure) does not count.
    public var idleTimeout: Duration?
    /// A line begun and not finished within this is answered `line_timeout` and the
    /// connection closed (slow loris); `nil` waits forever. Time the listener is not
    /// reading the connection (backpressure) does not count.
    public var lineTimeout: Duration?
    /// TLS (and, with a client CA, mutual TLS) on the feed; nil is plain TCP, which the
    /// log states at start (and warns about on a non-loopback address).
    public var tls: FeedTLSConfiguration?
    /// What happens to a line carrying a card number: refused (default) or tokenized.
    public var panPolicy: PANPolicy = .reject
    /// Called once per connection, when its first line arrives, with who sent it (the
    /// pipeline stores it in `feed_sessions`). Must not block: it runs on the reader.
    public var onSession: (@Sendable (FeedSession) -> Void)?
    /// What the listener speaks: protocol v1 lines (default) or ISO 8583 frames.
    public var wire: FeedWireFormat = .ndjson
    /// Prefix of the listener's metric names (`vigil_feed`; `vigil_iso8583` for the ISO 8583 port).
    public var metricsPrefix = "vigil_feed"
    /// Asked for each new connection: a rejection is sent as the connection's only line
    /// before it is closed (a standby of `vigil serve --ha` answers `not_leader`); nil admits.
    public var admission: (@Sendable () -> FeedRejection?)?
    /// Added to the session ids this listener hands out, so that two listeners started in
    /// the same microsecond never give two connections the same `feed_sessions` id.
    public var sessionIDBase: Int64 = 0

    /// Whether records are newline-framed (the line timeout applies only then: a binary
    /// length header may hold a newline byte).
    var isLineFramed: Bool {
        if case .ndjson = wire { return true }
        return false
    }

    /// Plain TCP, TLS or mutual TLS, as configured.
    public var transport: FeedTransport { tls?.transport ?? .tcp }

    /// Creates a configuration.
    public init(
        host: String = "0.0.0.0",
        port: Int = 7400,
        maximumLineLength: Int = 64 * 1024,
        maximumUnansweredPerConnection: Int = 2048,
        readBufferLowWatermark: Int = 2,
        readBufferHighWatermark: Int = 8,
        drainTimeout: Duration = .seconds(10),
        decoder: FeedDecoder.Configuration = .init(),
        maximumConnections: Int = FileDescriptorBudget.defaultMaximumConnections(),
        idleTimeout: Duration? = .seconds(300),
        lineTimeout: Duration? = .seconds(10)
    ) {
        self.host = host
        self.port = port
        self.maximumLineLength = maximumLineLength
        self.maximumUnansweredPerConnection = maximumUnansweredPerConnection
        self.readBufferLowWatermark = readBufferLowWatermark
        self.readBufferHighWatermark = readBufferHighWatermark
        self.drainTimeout = drainTimeout
        self.decoder = decoder
        self.socketSendBufferSize = nil
        self.maximumConnections = maximumConnections
        self.idleTimeout = idleTimeout
        self.lineTimeout = lineTimeout
    }
}
