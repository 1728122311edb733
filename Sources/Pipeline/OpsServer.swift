import FeedServer
import Logging
import Metrics
import NIOCore
import NIOHTTP1
import NIOPosix
import ServiceLifecycle
import Synchronization

/// A response of the operations endpoint.
public enum OpsResponse: Sendable {
    /// A complete response.
    case full(status: HTTPResponseStatus, contentType: String, body: String)
    /// A stream (server-sent events), ended when the source ends or the client leaves.
    case stream(contentType: String, source: any EventStreamSource)
}

/// The operations HTTP endpoint (`/healthz`, `/readyz`, `/metrics`, ...), on its own
/// port so monitoring never competes with the feed.
public final class OpsServer: Service, Sendable {
    /// Answers one request: method, path (without query), body.
    public typealias Router = @Sendable (HTTPMethod, String, ByteBuffer?) async -> OpsResponse
    /// Answers a `GET` of a streamed path from the request head (for `Last-Event-ID`) and
    /// the client's address.
    public typealias StreamRoute = @Sendable (HTTPRequestHead, _ peer: String) async -> OpsResponse

    private let host: String
    private let port: Int
    private let router: Router
    private let streams: [String: StreamRoute]
    /// Streams being served, ended at graceful shutdown so their connections close.
    private let activeStreams = Mutex<(next: Int, sources: [Int: any EventStreamSource])>((0, [:]))
    private let logger: Logger
    private let bound = Mutex<[CheckedContinuation<Int?, Never>]>([])
    private let boundPort = Mutex<Int??>(nil)

    /// Creates the endpoint.
    public init(
        host: String, port: Int, logger: Logger = Logger(label: "vigil.ops"), streams: [String: StreamRoute] = [:],
        router: @escaping Router
    ) {
        self.host = host
        self.port = port
        self.router = router
        self.streams = streams
        self.logger = logger
    }

    /// The port once bound (waits); `nil` when binding failed.
    public func boundPortNumber() async -> Int? {
        await withCheckedContinuation { continuation in
            let known: Int?? = boundPort.withLock { $0 }
            if let known {
                continuation.resume(returning: known)
                return
            }
            bound.withLock { $0.append(continuation) }
            if let late = boundPort.withLock({ $0 }) {
                let waiters = bound.withLock { w in
                    defer { w = [] }
                    return w
                }
                for waiter in waiters { waiter.resume(returning: late) }
            }
        }
    }

    private func setBound(_ port: Int?) {
        boundPort.withLock { $0 = .some(port) }
        let waiters = bound.withLock { w in
            defer { w = [] }
            return w
        }
        for waiter in waiters { waiter.resume(returning: port) }
    }

    public func run() async throws {
        let server: NIOAsyncChannel<NIOAsyncChannel<HTTPServerRequestPart, HTTPServerResponsePart>, Never>
        do {
            let logger = self.logger
            server = try await ServerBootstrap(group: MultiThreadedEventLoopGroup.singleton)
                .serverChannelOption(.socketOption(.so_reuseaddr), value: 1)
                .serverChannelInitializer { channel in
                    // Out of descriptors, back off instead of spinning on accept (see the handler).
                    channel.eventLoop.makeCompletedFuture {
                        try channel.pipeline.syncOperations.addHandler(
                            AcceptErrorHandler(
                                listener: "ops endpoint", logger: logger, counter: Counter(label: "vigil_ops_accept_errors_total")))
                    }
                }
                .bind(host: host, port: port) { channel in
                    channel.eventLoop.makeCompletedFuture {
                        try channel.pipeline.syncOperations.configureHTTPServerPipeline()
                        return try NIOAsyncChannel(wrappingChannelSynchronously: channel)
                    }
                }
        } catch {
            setBound(nil)
            throw OpsServerError(message: "cannot listen for the ops endpoint on \(host):\(port): \(error)")
        }
        setBound(server.channel.localAddress?.port)
        logger.info("ops endpoint listening", metadata: ["port": "\(server.channel.localAddress?.port ?? 0)"])
        try await withGracefulShutdownHandler {
            try await withThrowingDiscardingTaskGroup { group in
                try await server.executeThenClose { inbound in
                    for try await connection in inbound {
                        group.addTask { await self.serve(connection) }
                    }
                }
            }
        } onGracefulShutdown: {
            server.channel.close(promise: nil)
            let sources = self.activeStreams.withLock { Array($0.sources.values) }
            for source in sources { source.finish() }
        }
    }

    private func serve(_ connection: NIOAsyncChannel<HTTPServerRequestPart, HTTPServerResponsePart>) async {
        do {
            try await connection.executeThenClose { inbound, outbound in
                var head: HTTPRequestHead?
                var body: ByteBuffer?
                for try await part in inbound {
                    switch part {
                    case .head(let h):
                        head = h
                        body = nil
                    case .body(var chunk):
                        if body == nil { body = chunk } else { body?.writeBuffer(&chunk) }
                        if (body?.readableBytes ?? 0) > 1 << 20 { return }  // ops requests are small
                    case .end:
                        guard let request = head else { continue }
                        let path = String(request.uri.split(separator: "?", maxSplits: 1).first ?? "")
                        let response: OpsResponse
                        if request.method == .GET, let stream = streams[path] {
                            response = await stream(request, connection.channel.remoteAddress.map { "\($0)" } ?? "unknown")
                        } else {
                            response = await router(request.method, path, body)
                        }
                        let keepAlive = try await write(response, to: outbound, channel: connection.channel, keepAlive: request.isKeepAlive)
                        if !keepAlive { return }
                    }
                }
            }
        } catch {
            logger.debug("ops connection ended", metadata: ["error": "\(error)"])
        }
    }

    private func write(
        _ response: OpsResponse, to outbound: NIOAsyncChannelOutboundWriter<HTTPServerResponsePart>, channel: any Channel, keepAlive: Bool
    ) async throws -> Bool {
        switch response {
        case .full(let status, let contentType, let body):
            var headers = HTTPHeaders()
            headers.add(name: "content-type", value: contentType)
            headers.add(name: "content-length", value: "\(body.utf8.count)")
            headers.add(name: "connection", value: keepAlive ? "keep-alive" : "close")
            try await outbound.write(.head(HTTPResponseHead(version: .http1_1, status: status, headers: headers)))
            try await outbound.write(.body(.byteBuffer(ByteBuffer(string: body))))
            try await outbound.write(.end(nil))
            return keepAlive
        case .stream(let contentType, let source):
            let key = activeStreams.withLock { state -> Int in
                state.next += 1
                state.sources[state.next] = source
                return state.next
            }
            defer {
                source.finish()
                _ = activeStreams.withLock { $0.sources.removeValue(forKey: key) }
            }
            // A client that stops reading then holds a small, fixed kernel buffer rather than
            // one autotuned to megabytes; the source's own queue bounds the rest.
            try? await channel.setOption(.socketOption(.so_sndbuf), value: 64 * 1024).get()
            source.attach(closeConnection: { channel.close(promise: nil) })
            channel.closeFuture.whenComplete { _ in source.finish() }
            var headers = HTTPHeaders()
            headers.add(name: "content-type", value: contentType)
            headers.add(name: "cache-control", value: "no-cache")
            headers.add(name: "connection", value: "close")
            try await outbound.write(.head(HTTPResponseHead(version: .http1_1, status: .ok, headers: headers)))
            while let chunks = await source.next() {
                try await outbound.write(contentsOf: chunks.map { HTTPServerResponsePart.body(.byteBuffer($0)) })
            }
            try await outbound.write(.end(nil))
            return false
        }
    }
}

/// An error of the operations endpoint.
public struct OpsServerError: Error, Sendable, CustomStringConvertible {
    /// What happened and what to do.
    public var message: String
    public var description: String { message }
}
