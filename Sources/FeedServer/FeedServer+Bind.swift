import FeedProtocol
import Logging
import NIOCore
import NIOPosix
import NIOSSL

/// A connection as the listener hands it over: admitted (with what its task needs), or
/// already refused and closed in NIO.
enum AcceptedConnection: Sendable {
    case admitted(NIOAsyncChannel<[FeedFrame], ByteBuffer>, ReplyQueue, LineTimeout, ConnectionIdentity)
    case refused
}

extension FeedServer {
    /// Binds the listener. Each accepted connection is admitted or refused in its
    /// initializer, on its own event loop: an admitted one gets its watchdog (idle and
    /// line timeouts), the line framing and an async channel; a refused one gets the
    /// `too_many_connections` line and is closed without ever reaching a task.
    func bind() async throws -> NIOAsyncChannel<AcceptedConnection, Never> {
        let configuration = self.configuration
        let gate = self.gate
        let timeouts = self.timeouts
        let logger = self.logger
        let acceptErrors = self.acceptErrors
        let tls = self.tlsContext
        let tlsFailures = self.tlsFailures
        let transport = configuration.transport
        var bootstrap = ServerBootstrap(group: group)
        if let size = configuration.socketSendBufferSize {
            bootstrap = bootstrap.childChannelOption(.socketOption(.so_sndbuf), value: SocketOptionValue(size))
        }
        return
            try await bootstrap
            .serverChannelOption(.backlog, value: 1024)
            .serverChannelOption(.socketOption(.so_reuseaddr), value: 1)
            .serverChannelInitializer { channel in
                channel.eventLoop.makeCompletedFuture {
                    try channel.pipeline.syncOperations.addHandler(AcceptErrorHandler(listener: "feed", logger: logger, counter: acceptErrors))
                }
            }
            .childChannelOption(.allowRemoteHalfClosure, value: true)
            .childChannelOption(.socketOption(.tcp_nodelay), value: 1)
            .bind(host: configuration.host, port: configuration.port) { channel in
                channel.eventLoop.makeCompletedFuture {
                    if let refusal = configuration.admission?() {
                        // A standby: told where the leader is (ISO 8583 has no such message: closed).
                        if configuration.isLineFramed {
                            try channel.pipeline.syncOperations.addHandler(RefusalHandler(line: ByteBuffer(bytes: FeedReply.nack(refusal).bytes)))
                        } else {
                            channel.close(promise: nil)
                        }
                        return AcceptedConnection.refused
                    }
                    guard gate.admit(channel) else {
                        try gate.refuse(channel)
                        return AcceptedConnection.refused
                    }
                    let replies = ReplyQueue(capacity: configuration.maximumUnansweredPerConnection)
                    let lineTimeout = LineTimeout()
                    let identity = ConnectionIdentity(
                        id: self.nextSessionID(),
                        peer: channel.remoteAddress.map { "\($0)" } ?? "unknown", transport: transport
                    )
                    if let context = tls?.current {
                        // The context current at accept time: a reload (SIGHUP) changes it for
                        // later connections only, and open ones keep theirs.
                        try channel.pipeline.syncOperations.addHandler(NIOSSLServerHandler(context: context))
                        try channel.pipeline.syncOperations.addHandler(TLSHandshakeObserver(identity: identity, failures: tlsFailures))
                    }
                    let line = configuration.isLineFramed ? configuration.lineTimeout : nil
                    if configuration.idleTimeout != nil || line != nil {
                        try channel.pipeline.syncOperations.addHandler(
                            ConnectionWatchdog(
                                idle: configuration.idleTimeout, line: line,
                                replies: replies, outcome: lineTimeout, reporter: timeouts
                            ))
                    }
                    switch configuration.wire {
                    case .ndjson:
                        try channel.pipeline.syncOperations.addHandler(
                            ByteToMessageHandler(FeedLineDecoder(maximumLength: configuration.maximumLineLength))
                        )
                    case .iso8583(let wire):
                        try channel.pipeline.syncOperations.addHandler(
                            ByteToMessageHandler(ISO8583FrameDecoder(packager: wire.packager, maximumLength: configuration.maximumLineLength))
                        )
                    }
                    let connection = try NIOAsyncChannel<[FeedFrame], ByteBuffer>(
                        wrappingChannelSynchronously: channel,
                        configuration: .init(
                            backPressureStrategy: .init(
                                lowWatermark: configuration.readBufferLowWatermark,
                                highWatermark: configuration.readBufferHighWatermark
                            ),
                            isOutboundHalfClosureEnabled: true
                        )
                    )
                    return AcceptedConnection.admitted(connection, replies, lineTimeout, identity)
                }
            }
    }

    /// Warns at start when `--max-connections` leaves less than the reserve of the
    /// file-descriptor limit: at the cap, accepts would fail and the ops port go dark.
    func warnIfOverBudget() {
        guard let limit = FileDescriptorBudget.openFileLimit() else { return }
        let budget = FileDescriptorBudget.defaultMaximumConnections(forLimit: limit)
        guard gate.limit > budget else { return }
        logger.warning(
            "--max-connections is above what the file-descriptor limit leaves for the feed; under a flood the process may run out of descriptors (ops port, PostgreSQL, webhooks). Raise the limit (ulimit -n, LimitNOFILE=) or lower --max-connections",
            metadata: [
                "max_connections": "\(gate.limit)", "open_file_limit": "\(limit)",
                "reserve": "\(FileDescriptorBudget.reserve(forLimit: limit))", "suggested_max": "\(budget)",
            ]
        )
    }
}
