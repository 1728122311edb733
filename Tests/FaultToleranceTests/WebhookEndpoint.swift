import Foundation
import NIOCore
import NIOPosix
import Synchronization

/// A tiny HTTP/1.1 webhook consumer the test controls: it answers 200, answers 500,
/// hangs (holds each request unanswered) until told otherwise, or trickles (sends a 200
/// head promising a large body, then one byte of it per second). Keep-alive aware, so it
/// serves the dispatcher's pooled connections. It records each request's `webhook-id`.
final class WebhookEndpoint: Sendable {
    enum Mode: Sendable { case ok, fail, hang, trickle }

    /// What the connection writes for one request.
    fileprivate enum Answer: Sendable {
        case status(Int)
        case trickle
    }

    private struct State {
        var mode: Mode = .ok
        var received: [(id: String, answered: Int?)] = []
        var waiting: [CheckedContinuation<Void, Never>] = []
        var trickled = 0
    }

    private let state = Mutex(State())
    private let channel: any Channel
    let port: Int

    private init(channel: any Channel) {
        self.channel = channel
        self.port = channel.localAddress?.port ?? 0
    }

    static func start(mode: Mode = .ok) async throws -> WebhookEndpoint {
        let box = Mutex<WebhookEndpoint?>(nil)
        let channel = try await ServerBootstrap(group: MultiThreadedEventLoopGroup.singleton)
            .serverChannelOption(.socketOption(.so_reuseaddr), value: 1)
            .childChannelInitializer { channel in
                channel.eventLoop.makeCompletedFuture {
                    try channel.pipeline.syncOperations.addHandler(
                        RequestHandler(onTrickle: {
                            box.withLock { $0 }?.trickledByte()
                        }) { id in
                            guard let endpoint = box.withLock({ $0 }) else { return .status(500) }
                            return await endpoint.answer(id)
                        })
                }
            }
            .bind(host: "127.0.0.1", port: 0).get()
        let endpoint = WebhookEndpoint(channel: channel)
        endpoint.state.withLock { $0.mode = mode }
        box.withLock { $0 = endpoint }
        return endpoint
    }

    /// Changes the behaviour; requests held by a hang are released into the new mode.
    func set(_ mode: Mode) {
        let waiters = state.withLock { state -> [CheckedContinuation<Void, Never>] in
            state.mode = mode
            guard mode != .hang else { return [] }
            defer { state.waiting = [] }
            return state.waiting
        }
        for waiter in waiters { waiter.resume() }
    }

    /// Requests seen: webhook-id and the status answered (`nil` while held).
    var received: [(id: String, answered: Int?)] { state.withLock { $0.received } }
    var held: Int { state.withLock { $0.waiting.count } }

    func close() async {
        set(.ok)
        try? await channel.close()
    }

    /// Bytes of trickled bodies sent so far (all connections).
    var trickled: Int { state.withLock { $0.trickled } }
    fileprivate func trickledByte() { state.withLock { $0.trickled += 1 } }

    fileprivate func answer(_ id: String) async -> Answer {
        let index = state.withLock {
            $0.received.append((id, nil))
            return $0.received.count - 1
        }
        while true {
            let mode = state.withLock { $0.mode }
            let status: Int
            switch mode {
            case .ok: status = 200
            case .fail: status = 500
            case .trickle:
                state.withLock { $0.received[index].answered = 200 }
                return .trickle
            case .hang:
                await withCheckedContinuation { continuation in
                    let parked = state.withLock { state -> Bool in
                        guard state.mode == .hang else { return false }
                        state.waiting.append(continuation)
                        return true
                    }
                    if !parked { continuation.resume() }
                }
                continue
            }
            state.withLock { $0.received[index].answered = status }
            return .status(status)
        }
    }
}

/// Parses requests off one connection (headers and a Content-Length body) and writes
/// each answer in order.
private final class RequestHandler: ChannelInboundHandler, @unchecked Sendable {
    // @unchecked: all state is touched on the channel's event loop only.
    typealias InboundIn = ByteBuffer
    typealias OutboundOut = ByteBuffer

    private var buffer: [UInt8] = []
    private var queue: [String] = []
    private var busy = false
    private let respond: @Sendable (String) async -> WebhookEndpoint.Answer
    private let onTrickle: @Sendable () -> Void

    init(onTrickle: @escaping @Sendable () -> Void, respond: @escaping @Sendable (String) async -> WebhookEndpoint.Answer) {
        self.respond = respond
        self.onTrickle = onTrickle
    }

    func channelRead(context: ChannelHandlerContext, data: NIOAny) {
        let bytes = unwrapInboundIn(data)
        buffer.append(contentsOf: bytes.readableBytesView)
        while let request = nextRequest() { queue.append(request) }
        pump(context: context)
    }

    private func nextRequest() -> String? {
        guard let end = buffer.firstRange(of: Array("\r\n\r\n".utf8)) else { return nil }
        let head = String(decoding: buffer[..<end.lowerBound], as: UTF8.self).lowercased()
        var length = 0
        var id = ""
        for line in head.split(separator: "\r\n") {
            let parts = line.split(separator: ":", maxSplits: 1).map { $0.trimmingCharacters(in: .whitespaces) }
            guard parts.count == 2 else { continue }
            if parts[0] == "content-length" { length = Int(parts[1]) ?? 0 }
            if parts[0] == "webhook-id" { id = parts[1] }
        }
        guard buffer.count >= end.upperBound + length else { return nil }
        buffer.removeFirst(end.upperBound + length)
        return id
    }

    private func pump(context: ChannelHandlerContext) {
        guard !busy, !queue.isEmpty else { return }
        busy = true
        let id = queue.removeFirst()
        let respond = self.respond
        let loop = context.eventLoop
        let boundContext = NIOLoopBound(context, eventLoop: loop)
        let promise = loop.makePromise(of: WebhookEndpoint.Answer.self)
        promise.completeWithTask { await respond(id) }
        promise.futureResult.whenSuccess { answer in
            let context = boundContext.value
            guard case .status(let status) = answer else {
                // Headers now, then the body a byte a second, never finishing; the
                // connection stays busy (nothing else is answered on it).
                let head = "HTTP/1.1 200 OK\r\ncontent-length: 1000000\r\n\r\n"
                context.writeAndFlush(NIOAny(context.channel.allocator.buffer(string: head)), promise: nil)
                let onTrickle = self.onTrickle
                loop.scheduleRepeatedTask(initialDelay: .seconds(1), delay: .seconds(1)) { task in
                    let context = boundContext.value
                    guard context.channel.isActive else {
                        task.cancel()
                        return
                    }
                    context.writeAndFlush(NIOAny(context.channel.allocator.buffer(string: "x")), promise: nil)
                    onTrickle()
                }
                return
            }
            let text = status == 200 ? "OK" : "Internal Server Error"
            let response = "HTTP/1.1 \(status) \(text)\r\ncontent-length: 0\r\n\r\n"
            context.writeAndFlush(NIOAny(context.channel.allocator.buffer(string: response)), promise: nil)
            self.busy = false
            self.pump(context: context)
        }
    }
}
