import Logging
import NIOCore
import NIOHTTP1
import NIOPosix
import ServiceLifecycle
import VigilCore

/// A small HTTP server that receives webhooks and verifies their Standard Webhooks
/// signatures: `vigil webhooks receive` and the demo use it as a consumer would.
/// Verified deliveries get 204, anything else 401 (bad signature) or 400/413.
public final class WebhookReceiver: Service, Sendable {
    /// One received request, verified or not.
    public struct Delivery: Sendable {
        /// `webhook-id`, when present.
        public var messageID: String?
        /// The body bytes.
        public var body: [UInt8]
        /// nil when the signature verified, else why it did not.
        public var rejection: String?
    }

    private let host: String
    private let port: Int
    private let verifier: WebhookVerifier
    private let maxBody: Int
    private let onListening: @Sendable (Int) -> Void
    private let onDelivery: @Sendable (Delivery) async -> Void

    /// Creates a receiver; `onListening` gets the bound port (useful with port 0).
    public init(
        host: String = "127.0.0.1", port: Int, verifier: WebhookVerifier, maxBody: Int = 1 << 20,
        onListening: @escaping @Sendable (Int) -> Void = { _ in },
        onDelivery: @escaping @Sendable (Delivery) async -> Void
    ) {
        self.host = host
        self.port = port
        self.verifier = verifier
        self.maxBody = maxBody
        self.onListening = onListening
        self.onDelivery = onDelivery
    }

    /// Serves until cancelled or gracefully shut down.
    public func run() async throws {
        let server = try await ServerBootstrap(group: MultiThreadedEventLoopGroup.singleton)
            .serverChannelOption(.socketOption(.so_reuseaddr), value: 1)
            .bind(host: host, port: port) { channel in
                channel.eventLoop.makeCompletedFuture {
                    try channel.pipeline.syncOperations.configureHTTPServerPipeline()
                    return try NIOAsyncChannel<HTTPServerRequestPart, HTTPServerResponsePart>(wrappingChannelSynchronously: channel)
                }
            }
        onListening(server.channel.localAddress?.port ?? port)
        do {
            try await cancelWhenGracefulShutdown {
                try await server.executeThenClose { connections in
                    try await withThrowingDiscardingTaskGroup { group in
                        for try await connection in connections {
                            group.addTask { await self.serve(connection) }
                        }
                    }
                }
            }
        } catch is CancellationError where Task.isShuttingDownGracefully {
            // Graceful shutdown is a normal end, not a failure.
        }
    }

    private func serve(_ connection: NIOAsyncChannel<HTTPServerRequestPart, HTTPServerResponsePart>) async {
        try? await connection.executeThenClose { inbound, outbound in
            var head: HTTPRequestHead?
            var body: [UInt8] = []
            var tooLarge = false
            for try await part in inbound {
                switch part {
                case .head(let requestHead):
                    head = requestHead
                    body = []
                    tooLarge = false
                case .body(let buffer):
                    if body.count + buffer.readableBytes > maxBody { tooLarge = true } else { body += buffer.readableBytesView }
                case .end:
                    guard let requestHead = head else { continue }
                    let status = await handle(requestHead, body: body, tooLarge: tooLarge)
                    var headers = HTTPHeaders()
                    headers.add(name: "content-length", value: "0")
                    try await outbound.write(.head(HTTPResponseHead(version: requestHead.version, status: status, headers: headers)))
                    try await outbound.write(.end(nil))
                }
            }
        }
    }

    private func handle(_ head: HTTPRequestHead, body: [UInt8], tooLarge: Bool) async -> HTTPResponseStatus {
        guard head.method == .POST else { return .methodNotAllowed }
        guard !tooLarge else { return .payloadTooLarge }
        let messageID = head.headers.first(name: "webhook-id")
        var delivery = Delivery(messageID: messageID, body: body, rejection: nil)
        do {
            try verifier.verify(
                messageID: messageID, timestamp: head.headers.first(name: "webhook-timestamp"),
                signatures: head.headers.first(name: "webhook-signature"), body: body, now: Timestamp.now().secondsSinceEpoch
            )
        } catch {
            delivery.rejection = "\(error)"
        }
        await onDelivery(delivery)
        return delivery.rejection == nil ? .noContent : .unauthorized
    }
}
