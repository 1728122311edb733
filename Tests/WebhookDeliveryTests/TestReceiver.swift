import Foundation
import NIOCore
import NIOHTTP1
import NIOPosix
import Synchronization
import VigilTesting

/// A webhook consumer for tests: an HTTP/1.1 server on a loopback port that records every
/// request and answers as the test scripts it (status, headers, or never).
final class TestReceiver: Sendable {
    struct Request: Sendable {
        var headers: [(name: String, value: String)]
        var body: [UInt8]
        var receivedAt: ContinuousClock.Instant
        func header(_ name: String) -> String? {
            headers.first { $0.name.lowercased() == name.lowercased() }?.value
        }
        var bodyText: String { String(decoding: body, as: UTF8.self) }
    }

    enum Reply: Sendable {
        case status(Int, headers: [(String, String)] = [])
        /// Never answers (until the receiver stops).
        case hang
        /// Sends a 200 head promising a large body, then one byte of it per second.
        case trickle
    }

    private let script: @Sendable (Int) -> Reply
    private let received = Mutex<[Request]>([])
    private let channel: Mutex<(any Channel)?> = Mutex(nil)

    /// `script(n)` answers the n-th request (0-based).
    init(script: @escaping @Sendable (Int) -> Reply = { _ in .status(204) }) {
        self.script = script
    }

    var requests: [Request] { received.withLock { $0 } }

    /// Binds 127.0.0.1 on an ephemeral port and returns the URL to register.
    func start(path: String = "/hook") async throws -> String {
        let bootstrap = ServerBootstrap(group: MultiThreadedEventLoopGroup.singleton)
            .serverChannelOption(.socketOption(.so_reuseaddr), value: 1)
            .childChannelInitializer { channel in
                channel.eventLoop.makeCompletedFuture {
                    try channel.pipeline.syncOperations.configureHTTPServerPipeline()
                    try channel.pipeline.syncOperations.addHandler(Handler(receiver: self))
                }
            }
        let server = try await bootstrap.bind(host: "127.0.0.1", port: 0).get()
        channel.withLock { $0 = server }
        let port = server.localAddress?.port ?? 0
        return "http://127.0.0.1:\(port)\(path)"
    }

    func stop() async {
        let server = channel.withLock { $0 }
        try? await server?.close()
    }

    fileprivate func record(_ request: Request) -> Reply {
        let index = received.withLock { list in
            list.append(request)
            return list.count - 1
        }
        return script(index)
    }

    /// Waits until `count` requests arrived; fails after the deadline.
    func waitForRequests(_ count: Int, within deadline: Duration = .seconds(10)) async throws -> [Request] {
        try await waitUntil(within: deadline, "\(count) requests (have \(requests.count))") { self.requests.count >= count }
        return requests
    }

    private final class Handler: ChannelInboundHandler, @unchecked Sendable {
        // @unchecked: NIO confines a handler to its channel's event loop; the mutable
        // request state is touched only there.
        typealias InboundIn = HTTPServerRequestPart
        typealias OutboundOut = HTTPServerResponsePart
        let receiver: TestReceiver
        var head: HTTPRequestHead?
        var body: [UInt8] = []

        init(receiver: TestReceiver) { self.receiver = receiver }

        func channelRead(context: ChannelHandlerContext, data: NIOAny) {
            switch unwrapInboundIn(data) {
            case .head(let h):
                head = h
                body = []
            case .body(let buffer):
                body += buffer.readableBytesView
            case .end:
                guard let head else { return }
                let request = Request(headers: head.headers.map { ($0.name, $0.value) }, body: body, receivedAt: .now)
                switch receiver.record(request) {
                case .hang:
                    return
                case .trickle:
                    var headers = HTTPHeaders()
                    headers.add(name: "content-length", value: "1000000")
                    let response = HTTPResponseHead(version: head.version, status: .ok, headers: headers)
                    context.writeAndFlush(wrapOutboundOut(.head(response)), promise: nil)
                    let bound = NIOLoopBound(context, eventLoop: context.eventLoop)
                    context.eventLoop.scheduleRepeatedTask(initialDelay: .seconds(1), delay: .seconds(1)) { task in
                        let context = bound.value
                        guard context.channel.isActive else {
                            task.cancel()
                            return
                        }
                        context.writeAndFlush(NIOAny(HTTPServerResponsePart.body(.byteBuffer(ByteBuffer(string: "x")))), promise: nil)
                    }
                case .status(let code, let extra):
                    var headers = HTTPHeaders(extra)
                    headers.add(name: "content-length", value: "2")
                    let response = HTTPResponseHead(version: head.version, status: HTTPResponseStatus(statusCode: code), headers: headers)
                    context.write(wrapOutboundOut(.head(response)), promise: nil)
                    context.write(wrapOutboundOut(.body(.byteBuffer(ByteBuffer(string: "ok")))), promise: nil)
                    context.writeAndFlush(wrapOutboundOut(.end(nil)), promise: nil)
                }
            }
        }
    }
}
