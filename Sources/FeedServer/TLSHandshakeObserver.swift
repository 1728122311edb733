import Logging
import Metrics
import NIOCore
import NIOSSL
import NIOTLS
import Synchronization
import X509

/// Sits behind the TLS handler of a feed connection: records the client certificate's
/// subject when the handshake completes, and logs and counts a handshake that fails
/// (no certificate, expired, from an unknown CA, not TLS at all) with the peer and the
/// reason. The connection is closed by the TLS handler; nothing of it reaches the pipeline.
final class TLSHandshakeObserver: ChannelInboundHandler, RemovableChannelHandler {
    typealias InboundIn = ByteBuffer
    typealias InboundOut = ByteBuffer
    private let identity: ConnectionIdentity
    private let failures: TLSFailureLog
    private var completed = false

    init(identity: ConnectionIdentity, failures: TLSFailureLog) {
        self.identity = identity
        self.failures = failures
    }

    func userInboundEventTriggered(context: ChannelHandlerContext, event: Any) {
        if case .handshakeCompleted = event as? TLSUserEvent {
            completed = true
            if let handler = try? context.pipeline.syncOperations.handler(type: NIOSSLServerHandler.self),
                let certificate = handler.peerCertificate,
                let der = try? certificate.toDERBytes(),
                let parsed = try? Certificate(derEncoded: der)
            {
                identity.setSubject(parsed.subject.description)
            }
        }
        context.fireUserInboundEventTriggered(event)
    }

    func errorCaught(context: ChannelHandlerContext, error: any Error) {
        if !completed {
            completed = true  // one report per connection
            failures.record(peer: identity.session.peer, error: error)
        }
        context.fireErrorCaught(error)
    }
}

/// Counts refused TLS handshakes (`vigil_feed_tls_handshake_failures_total`) and logs
/// them, at most one line per 10 s under a flood (each says how many went unlogged).
final class TLSFailureLog: Sendable {
    private let logger: Logger
    private let counter = Counter(label: "vigil_feed_tls_handshake_failures_total")
    private let throttle = Mutex(LogThrottle())
    private let total = Atomic<Int>(0)

    init(logger: Logger) {
        self.logger = logger
    }

    /// Handshakes refused since start.
    var count: Int { total.load(ordering: .relaxed) }

    func record(peer: String, error: any Error) {
        counter.increment()
        total.add(1, ordering: .relaxed)
        guard let unlogged = throttle.withLock({ $0.record(at: .now) }) else { return }
        logger.warning(
            "feed TLS handshake refused; the connection is closed (a client needs a certificate signed by --tls-client-ca, valid now)",
            metadata: ["peer": "\(peer)", "reason": "\(error)", "refused_unlogged": "\(unlogged)"]
        )
    }
}
