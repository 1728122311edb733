import Foundation
import NIOCore
import NIOPosix
import Synchronization

/// A client of `GET /alerts/stream` on a real socket: sends the request (with the bearer
/// token and `Last-Event-ID` when given), decodes the chunked body and parses the events, keeping
/// counts (and, with `keep`, the events). `reading: false` sends the request and never
/// reads a byte, like a consumer that hung; `parsing: false` reads and only counts bytes
/// (a cheap reader, so the test process does not compete with the server for the CPU).
public final class StreamClient: Sendable {
    /// One parsed server-sent event.
    public struct Event: Sendable, Equatable {
        public var name: String
        public var id: Int64?
        public var data: String
    }

    /// What the client has seen so far.
    public struct Tally: Sendable {
        public var status: Int?
        public var alerts = 0
        public var lastID: Int64?
        /// An alert id not above the one before it (a duplicate or out of order).
        public var disordered = 0
        public var overflows = 0
        public var errors = 0
        public var closed = false
        public var bytes = 0
        public var kept: [Event] = []
    }

    private let tally = Mutex(Tally())
    private let channel: Mutex<(any Channel)?> = Mutex(nil)
    private let keep: Bool
    fileprivate let parsing: Bool

    private init(keep: Bool, parsing: Bool) {
        self.keep = keep
        self.parsing = parsing
    }

    /// Connects and sends the request (see the type's summary for the modes).
    public static func connect(
        port: Int, token: String?, reading: Bool = true, parsing: Bool = true, lastEventID: Int64? = nil, keep: Bool = false
    ) async throws -> StreamClient {
        let client = StreamClient(keep: keep, parsing: parsing)
        let channel = try await ClientBootstrap(group: MultiThreadedEventLoopGroup.singleton)
            .channelOption(.autoRead, value: reading)
            // A consumer that never reads: a small window, so the server sees it stuck soon.
            .channelOption(.socketOption(.so_rcvbuf), value: reading ? 256 * 1024 : 4096)
            .channelInitializer { channel in
                channel.eventLoop.makeCompletedFuture {
                    try channel.pipeline.syncOperations.addHandler(Reader(client: client))
                }
            }
            .connect(host: "127.0.0.1", port: port).get()
        client.channel.withLock { $0 = channel }
        var request = "GET /alerts/stream HTTP/1.1\r\nHost: 127.0.0.1\r\nAccept: text/event-stream\r\n"
        if let token { request += "Authorization: Bearer \(token)\r\n" }
        if let lastEventID { request += "Last-Event-ID: \(lastEventID)\r\n" }
        request += "\r\n"
        try await channel.writeAndFlush(channel.allocator.buffer(string: request))
        return client
    }

    /// A snapshot of the counts.
    public var state: Tally { tally.withLock { $0 } }

    /// Closes the connection.
    public func close() async {
        let channel = self.channel.withLock { $0 }
        try? await channel?.close()
    }

    fileprivate func received(_ events: [Event], status: Int?) {
        tally.withLock { tally in
            if tally.status == nil { tally.status = status }
            for event in events {
                if keep { tally.kept.append(event) }
                switch event.name {
                case "alert.created":
                    tally.alerts += 1
                    if let id = event.id {
                        if let last = tally.lastID, id <= last { tally.disordered += 1 }
                        tally.lastID = id
                    }
                case "overflow": tally.overflows += 1
                case "error": tally.errors += 1
                default: break
                }
            }
        }
    }

    fileprivate func count(_ bytes: Int) { tally.withLock { $0.bytes += bytes } }

    fileprivate func closedByServer() { tally.withLock { $0.closed = true } }
}

/// Decodes the HTTP head, the chunked body and the events, on the channel's event loop.
private final class Reader: ChannelInboundHandler, @unchecked Sendable {
    // @unchecked: NIO confines a handler to its channel's event loop; its state is touched only there.
    typealias InboundIn = ByteBuffer

    private let client: StreamClient
    private var raw: [UInt8] = []
    private var start = 0
    private var status: Int?
    private var headDone = false
    private var body: [UInt8] = []

    init(client: StreamClient) { self.client = client }

    func channelRead(context: ChannelHandlerContext, data: NIOAny) {
        client.count(unwrapInboundIn(data).readableBytes)
        guard client.parsing else { return }
        raw.append(contentsOf: unwrapInboundIn(data).readableBytesView)
        if !headDone, let end = find([13, 10, 13, 10], in: raw, from: start) {
            let head = String(decoding: raw[start..<end], as: UTF8.self)
            status = Int(head.split(separator: " ").dropFirst().first ?? "")
            start = end + 4
            headDone = true
        }
        guard headDone else { return }
        // Chunked transfer coding: hex size, CRLF, bytes, CRLF.
        while let lineEnd = find([13, 10], in: raw, from: start) {
            let sizeText = String(decoding: raw[start..<lineEnd], as: UTF8.self)
            guard let size = Int(sizeText.split(separator: ";").first ?? "", radix: 16) else { break }
            guard raw.count >= lineEnd + 2 + size + 2 else { break }
            body.append(contentsOf: raw[(lineEnd + 2)..<(lineEnd + 2 + size)])
            start = lineEnd + 2 + size + 2
        }
        if start > 65_536 {
            raw.removeFirst(start)
            start = 0
        }
        var events: [StreamClient.Event] = []
        var from = 0
        while let end = find([10, 10], in: body, from: from) {
            var event = StreamClient.Event(name: "message", id: nil, data: "")
            for line in String(decoding: body[from..<end], as: UTF8.self).split(separator: "\n") {
                if line.hasPrefix("event: ") { event.name = String(line.dropFirst(7)) }
                if line.hasPrefix("id: ") { event.id = Int64(line.dropFirst(4)) }
                if line.hasPrefix("data: ") { event.data = String(line.dropFirst(6)) }
            }
            if !(event.name == "message" && event.data.isEmpty) { events.append(event) }
            from = end + 2
        }
        body.removeFirst(from)
        client.received(events, status: status)
    }

    func channelInactive(context: ChannelHandlerContext) {
        client.closedByServer()
        context.fireChannelInactive()
    }

    func errorCaught(context: ChannelHandlerContext, error: any Error) {
        context.close(promise: nil)
    }

    private func find(_ needle: [UInt8], in haystack: [UInt8], from: Int) -> Int? {
        guard haystack.count >= needle.count, from <= haystack.count - needle.count else { return nil }
        var i = from
        while i <= haystack.count - needle.count {
            if haystack[i] == needle[0] && needle.indices.allSatisfy({ haystack[i + $0] == needle[$0] }) { return i }
            i += 1
        }
        return nil
    }
}
