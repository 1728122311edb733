import FeedProtocol
import Logging
import Metrics
import NIOCore
import NIOPosix
import NIOSSL
import ServiceLifecycle
import Supervision
import Synchronization
import VigilCore

/// The TCP listener of the transaction feed (protocol v1).
///
/// One child task per connection, each isolated: garbage, a stall, a client that never
/// reads, or a disconnect mid-line affect only that connection. Reading is driven by
/// demand: NIO reads the socket only while the connection's reader keeps up, and the
/// reader waits whenever the pipeline's mailbox is full, so a saturated pipeline
/// pushes back to the sender through TCP flow control.
///
/// Graceful shutdown: stop accepting, stop reading (half-close each connection's
/// input), answer every record already read, then close; connections that have not
/// taken their acks after `drainTimeout` are closed anyway.
public final class FeedServer: Service, Sendable {
    let configuration: FeedServerConfiguration
    private let sink: any FeedSink
    /// Where reversals go (ISO 8583 listeners); nil answers them with a system error.
    let reversals: (any ReversalSink)?
    let logger: Logger
    let group: any EventLoopGroup
    let decoder: FeedDecoder
    private let connections = Mutex<[ObjectIdentifier: (channel: any NIOCore.Channel, replies: ReplyQueue)]>([:])
    /// The bound address (`nil` when binding failed), delivered once.
    private let listening = Promise<SocketAddress?>()
    let gate: ConnectionGate
    let timeouts: TimeoutReporter
    let acceptErrors: Counter
    private let linesCounter: Counter
    /// The TLS context new connections get (swapped by ``reloadTLS()``); nil for plain TCP.
    let tlsContext: TLSContextBox?
    let tlsFailures: TLSFailureLog
    /// The next connection's session id: microseconds at start, so ids stay unique across restarts.
    let sessionIDs: Atomic<Int64>

    /// Creates a server that hands records to `sink`.
    public init(
        configuration: FeedServerConfiguration,
        sink: any FeedSink,
        reversals: (any ReversalSink)? = nil,
        logger: Logger = Logger(label: "vigil.feed"),
        eventLoopGroup: any EventLoopGroup = MultiThreadedEventLoopGroup.singleton
    ) {
        self.configuration = configuration
        self.sink = sink
        self.reversals = reversals
        self.logger = logger
        let prefix = configuration.metricsPrefix
        self.acceptErrors = Counter(label: "\(prefix)_accept_errors_total")
        self.linesCounter = Counter(label: "\(prefix)_lines_total")
        self.sessionIDs = Atomic(Timestamp.now().microsecondsSinceEpoch + configuration.sessionIDBase)
        self.group = eventLoopGroup
        self.decoder = FeedDecoder(configuration: configuration.decoder)
        self.gate = ConnectionGate(limit: configuration.maximumConnections, logger: logger, configuration: configuration)
        self.timeouts = TimeoutReporter(logger: logger, idleTimeout: configuration.idleTimeout, lineTimeout: configuration.lineTimeout)
        self.tlsContext = configuration.tls.flatMap { try? $0.makeContext() }.map { TLSContextBox($0) }
        self.tlsFailures = TLSFailureLog(logger: logger)
    }

    /// The next connection's session id.
    func nextSessionID() -> Int64 { sessionIDs.add(1, ordering: .relaxed).oldValue }

    /// Plain TCP, TLS or mutual TLS (for the log and `/readyz`).
    public var transport: FeedTransport { configuration.transport }

    /// TLS handshakes refused since start (no, expired or untrusted client certificate).
    public var refusedHandshakes: Int { tlsFailures.count }

    /// Reads the certificate, key and client CA again and uses them for new connections;
    /// open connections keep theirs. On an error the running context stays.
    public func reloadTLS() throws(FeedServerError) {
        guard let tls = configuration.tls, let box = tlsContext else { return }
        let context = try tls.makeContext()
        box.current = context
        logger.info(
            "feed TLS certificate and key reloaded", metadata: ["certificate": "\(tls.certificatePath)", "transport": "\(transport.rawValue)"])
    }

    /// The bound address once listening (waits for it); `nil` if binding failed or the
    /// waiting task was cancelled.
    public func boundAddress() async -> SocketAddress? {
        await listening.wait() ?? nil
    }

    /// Records read and not yet answered on the socket, over all connections.
    public var unansweredRecords: Int { connections.withLock { $0.values.reduce(0) { $0 + $1.replies.unanswered } } }

    /// The number of open feed connections (admitted and not yet closed).
    public var connectionCount: Int { gate.count }

    public func run() async throws {
        let configuration = self.configuration
        let server: NIOAsyncChannel<AcceptedConnection, Never>
        if let tls = configuration.tls, tlsContext == nil {
            // Never fall back to plain TCP: the files were unusable when the server was made.
            listening.complete(nil)
            _ = try tls.makeContext()  // throws the reason the files cannot be used
            throw FeedServerError(
                code: .tlsConfiguration,
                message: "the feed TLS files \(tls.certificatePath) and \(tls.privateKeyPath) were unusable at start; fix them and restart")
        }
        do {
            server = try await bind()
        } catch {
            listening.complete(nil)
            throw FeedServerError(code: .bindFailed, message: "cannot listen for the feed on \(configuration.host):\(configuration.port): \(error)")
        }
        listening.complete(server.channel.localAddress)
        logger.info(
            "feed listening",
            metadata: [
                "address": "\(server.channel.localAddress.map { "\($0)" } ?? "?")", "max_connections": "\(gate.limit)",
                "idle_timeout": "\(configuration.idleTimeout.map { "\($0)" } ?? "off")",
                "line_timeout": "\(configuration.lineTimeout.map { "\($0)" } ?? "off")",
                "transport": "\(transport.rawValue)",
            ])
        warnIfExposed()
        warnIfOverBudget()

        let drainTimeout = configuration.drainTimeout
        try await withThrowingTaskGroup(of: Void.self) { outer in
            outer.addTask {
                try await withGracefulShutdownHandler {
                    try await withThrowingDiscardingTaskGroup { tasks in
                        try await server.executeThenClose { inbound in
                            for try await accepted in inbound {
                                // Refused connections were answered and closed in NIO already.
                                guard case .admitted(let connection, let replies, let lineTimeout, let identity) = accepted else { continue }
                                // On the connection's own event loop (see `EventLoopTaskExecutor`).
                                tasks.addTask(executorPreference: EventLoopTaskExecutor(connection.channel.eventLoop)) {
                                    await self.serve(connection, replies: replies, lineTimeout: lineTimeout, identity: identity)
                                }
                            }
                        }
                    }
                } onGracefulShutdown: {
                    self.beginDrain(server: server.channel)
                }
            }
            outer.addTask {
                // Connections get `drainTimeout` after shutdown begins; then whatever is
                // left (a client not reading its acks, a reader stuck on a full pipeline)
                // is cancelled and closed.
                try await gracefulShutdown()
                try await Task.sleep(for: drainTimeout)
                let stragglers = self.connections.withLock { $0.values.map(\.channel) }
                if !stragglers.isEmpty {
                    self.logger.warning("closing feed connections that did not drain in time", metadata: ["count": "\(stragglers.count)"])
                }
                for channel in stragglers { channel.close(promise: nil) }
            }
            do {
                try await outer.next()
            } catch is CancellationError {
            }
            outer.cancelAll()
        }
        logger.info("feed stopped")
    }

    /// Stops accepting and reading: closes the listener and each connection's input.
    private func beginDrain(server: any NIOCore.Channel) {
        logger.info("feed draining: no new connections, no new records")
        server.close(promise: nil)
        let open = connections.withLock { $0.values.map(\.channel) }
        for channel in open {
            channel.close(mode: .input, promise: nil)
        }
    }

    private func serve(
        _ connection: NIOAsyncChannel<[FeedFrame], ByteBuffer>, replies: ReplyQueue, lineTimeout: LineTimeout,
        identity: ConnectionIdentity
    ) async {
        let channel = connection.channel
        let key = ObjectIdentifier(channel)
        let peer = identity.session.peer
        connections.withLock { $0[key] = (channel, replies) }
        defer { connections.withLock { _ = $0.removeValue(forKey: key) } }
        var logger = self.logger
        logger[metadataKey: "peer"] = "\(peer)"
        let iso = makeISO8583Session()
        do {
            // Cancelled (the tree is going down for good, e.g. a supervisor escalated): replies
            // still owed may never come, so stop waiting for them; unanswered records are
            // not acked, and the sender re-sends them. Without this the reply writer waits
            // forever and the listener is abandoned only after the shutdown timeout.
            try await withTaskCancellationHandler {
                try await connection.executeThenClose { inbound, outbound in
                    try await withThrowingTaskGroup(of: Void.self) { tasks in
                        tasks.addTask { try await Self.writeReplies(replies, to: outbound, iso: iso) }
                        do {
                            try await self.readRecords(inbound, replies: replies, identity: identity, iso: iso)
                            try await self.answerTimedOutLine(lineTimeout, replies: replies, session: identity.session)
                        } catch {
                            logger.debug("feed connection read ended", metadata: ["error": "\(error)"])
                        }
                        replies.finishSubmitting()
                        try await tasks.waitForAll()
                    }
                }
            } onCancel: {
                replies.close()
            }
        } catch {
            logger.debug("feed connection ended", metadata: ["error": "\(error)"])
        }
        replies.close()
    }

    private func readRecords(
        _ inbound: NIOAsyncChannelInboundStream<[FeedFrame]>, replies: ReplyQueue, identity: ConnectionIdentity, iso: ISO8583Session?
    ) async throws {
        var records: [FeedRecord] = []
        var lines = 0
        defer { linesCounter.increment(by: lines) }
        // Known once the first line arrives: with TLS, the handshake (and the client's
        // subject) is complete by then.
        var session: FeedSession?
        var peer = ""
        for try await frames in inbound {
            records.removeAll(keepingCapacity: true)
            let now = Timestamp.now()
            if session == nil {
                let known = identity.session
                session = known
                peer = known.peerDescription
                configuration.onSession?(known)
            }
            let sessionID = session?.id
            for frame in frames {
                guard let decoded = decodeFrame(frame, now: now, iso: iso) else { continue }
                // Waits while the connection has its maximum of unanswered records: hand
                // over what is read so far first, or their replies could never free a place.
                var sequence = replies.tryReserve()
                if sequence == nil {
                    try await submit(records, replies: replies, iso: iso)
                    records.removeAll(keepingCapacity: true)
                    sequence = await replies.reserve()
                }
                guard let sequence else {
                    try await submit(records, replies: replies, iso: iso)  // closing: what was read still goes in
                    return
                }
                iso?.expect(sequence, respondTo: decoded.respondTo)
                lines += 1
                switch decoded.outcome {
                case .record(let payload, let raw):
                    records.append(FeedRecord(payload: payload, rawLine: raw, peer: peer, replies: replies, sequence: sequence, session: sessionID))
                case .answered(let reply):
                    replies.complete(sequence, reply)
                case .reversal(let reversal):
                    // After the records read before it, so that its reply keeps its place.
                    try await submit(records, replies: replies, iso: iso)
                    records.removeAll(keepingCapacity: true)
                    let record = ReversalRecord(reversal: reversal, peer: peer, session: sessionID, replies: replies, sequence: sequence)
                    try await submitReversal(record, iso: iso)
                }
                if decoded.last {
                    // Nothing after this frame can be found: answer what is owed, then close.
                    try await submit(records, replies: replies, iso: iso)
                    return
                }
            }
            linesCounter.increment(by: lines)
            lines = 0
            try await submit(records, replies: replies, iso: iso)
        }
    }

    /// After a line timeout: the unfinished line is answered `line_timeout` (and kept in
    /// the rejects table, without its bytes) after every reply still owed.
    private func answerTimedOutLine(_ lineTimeout: LineTimeout, replies: ReplyQueue, session: FeedSession) async throws {
        guard let received = lineTimeout.receivedBytes, let timeout = configuration.lineTimeout else { return }
        var sequence = replies.tryReserve()
        if sequence == nil { sequence = await replies.reserve() }
        guard let sequence else { return }
        let rejection = FeedRejection.lineTimeout(after: timeout, received: received)
        try await submit(
            [
                FeedRecord(
                    payload: .rejected(rejection), rawLine: [], peer: session.peerDescription, replies: replies, sequence: sequence,
                    session: session.id)
            ], replies: replies, iso: nil)
    }

    /// Hands the records of one read to the pipeline; those it could not take get no
    /// reply (the sender re-sends them).
    private func submit(_ records: [FeedRecord], replies: ReplyQueue, iso: ISO8583Session?) async throws {
        guard !records.isEmpty else { return }
        do {
            try await sink.submit(contentsOf: records)
        } catch {
            let abandoned = error.notHandedOver.map { records[$0].sequence }
            iso?.abandon(abandoned)
            replies.abandon(abandoned)
            throw error.underlying
        }
    }
}
