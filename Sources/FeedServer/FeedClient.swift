import Foundation
import ISO8583
import NIOCore
import NIOPosix
import VigilCore

/// A reply line as a feed client reads it.
public enum FeedAcknowledgement: Sendable, Hashable {
    /// `{"ack":"ID"}` or `{"ack":"ID","duplicate":true}`.
    case ack(id: String, duplicate: Bool)
    /// `{"nack":"ID"|null,"error":"code","message":"..."}`.
    case nack(id: String?, code: String, message: String)

    /// Parses one reply line; `nil` if it is not a protocol v1 reply.
    public init?(line: some Collection<UInt8>) {
        guard let object = try? JSONSerialization.jsonObject(with: Data(line)) as? [String: Any] else { return nil }
        self.init(object: object)
    }

    /// The reply and the decision it carries, from one parse of the line.
    public static func parse(line: some Collection<UInt8>) -> (reply: FeedAcknowledgement, decision: TransactionDecision?)? {
        guard let object = try? JSONSerialization.jsonObject(with: Data(line)) as? [String: Any],
            let reply = FeedAcknowledgement(object: object)
        else { return nil }
        return (reply, decision(in: object))
    }

    private init?(object: [String: Any]) {
        if let id = object["ack"] as? String {
            self = .ack(id: id, duplicate: object["duplicate"] as? Bool ?? false)
        } else if object.keys.contains("nack"), let code = object["error"] as? String {
            self = .nack(id: object["nack"] as? String, code: code, message: object["message"] as? String ?? "")
        } else {
            return nil
        }
    }

    /// The decision an ack line carries (`decision`, `score`, `rules`, `ruleset`,
    /// `degraded`); nil for a nack or an ack without one.
    public static func decision(in line: some Collection<UInt8>) -> TransactionDecision? {
        guard let object = try? JSONSerialization.jsonObject(with: Data(line)) as? [String: Any] else { return nil }
        return decision(in: object)
    }

    private static func decision(in object: [String: Any]) -> TransactionDecision? {
        guard object["ack"] is String, let outcome = (object["decision"] as? String).flatMap(DecisionOutcome.init(rawValue:))
        else { return nil }
        return TransactionDecision(
            outcome: outcome, score: object["score"] as? Int ?? 0, rules: object["rules"] as? [String] ?? [],
            ruleset: object["ruleset"] as? String ?? "",
            degraded: (object["degraded"] as? String).flatMap(DegradedReason.init(rawValue:)))
    }

    /// The record id the reply is about, when known.
    public var id: String? {
        switch self {
        case .ack(let id, _): id
        case .nack(let id, _, _): id
        }
    }
}

/// A client of the feed protocol: `vigil feed send`, the load generator and the tests.
public enum FeedClient {
    /// Connects to a feed server and runs `body` with the connection; closes it after.
    public static func withConnection<R: Sendable>(
        host: String,
        port: Int,
        eventLoopGroup: any EventLoopGroup = MultiThreadedEventLoopGroup.singleton,
        receiveBufferSize: Int32? = nil,
        tls: FeedClientTLS? = nil,
        iso8583: ISO8583Packager? = nil,
        _ body: (FeedClientConnection) async throws -> R
    ) async throws -> R {
        var bootstrap = ClientBootstrap(group: eventLoopGroup)
        if let receiveBufferSize {
            bootstrap = bootstrap.channelOption(.socketOption(.so_rcvbuf), value: SocketOptionValue(receiveBufferSize))
        }
        let channel =
            try await bootstrap
            .channelOption(.socketOption(.tcp_nodelay), value: 1)
            .channelOption(.allowRemoteHalfClosure, value: true)
            .connect(host: host, port: port) { channel in
                channel.eventLoop.makeCompletedFuture {
                    try tls?.addHandler(to: channel, host: host)
                    if let iso8583 {
                        try channel.pipeline.syncOperations.addHandler(
                            ByteToMessageHandler(ISO8583FrameDecoder(packager: iso8583, maximumLength: iso8583.maximumBodyLength)))
                    } else {
                        try channel.pipeline.syncOperations.addHandler(ByteToMessageHandler(FeedLineDecoder(maximumLength: 1 << 20)))
                    }
                    return try NIOAsyncChannel<[FeedFrame], ByteBuffer>(
                        wrappingChannelSynchronously: channel,
                        configuration: .init(isOutboundHalfClosureEnabled: true)
                    )
                }
            }
        return try await channel.executeThenClose { inbound, outbound in
            let connection = FeedClientConnection(inbound: inbound, outbound: outbound, channel: channel.channel)
            connection.iso8583 = iso8583.map { ISO8583Decoder(packager: $0) }
            return try await body(connection)
        }
    }
}

/// One open feed connection: send lines, read replies in order.
public final class FeedClientConnection {
    private var iterator: NIOAsyncChannelInboundStream<[FeedFrame]>.AsyncIterator
    /// Frames of the last read not yet returned.
    private var frames: [FeedFrame] = []
    private var nextFrame = 0
    private let outbound: NIOAsyncChannelOutboundWriter<ByteBuffer>
    /// The underlying channel (to close it abruptly in tests).
    public let channel: any NIOCore.Channel
    /// Set when the connection speaks ISO 8583: replies are response messages.
    var iso8583: ISO8583Decoder?
    /// The last ISO 8583 response read by ``nextReply()`` (tests look at its fields).
    public private(set) var lastResponse: ISO8583Message?

    init(inbound: NIOAsyncChannelInboundStream<[FeedFrame]>, outbound: NIOAsyncChannelOutboundWriter<ByteBuffer>, channel: any NIOCore.Channel) {
        self.iterator = inbound.makeAsyncIterator()
        self.outbound = outbound
        self.channel = channel
    }

    /// Sends raw bytes (one or more lines, or a part of one).
    public func send(bytes: [UInt8]) async throws {
        try await outbound.write(ByteBuffer(bytes: bytes))
    }

    /// The sending half on its own, to send from another task while this one reads.
    public var writer: FeedClientWriter { FeedClientWriter(outbound: outbound) }

    /// Sends each string followed by `\n`.
    public func send(lines: [String]) async throws {
        var bytes: [UInt8] = []
        for line in lines {
            bytes.append(contentsOf: line.utf8)
            bytes.append(UInt8(ascii: "\n"))
        }
        try await send(bytes: bytes)
    }

    /// Half-closes the sending side: the server sees the end of input, still answers.
    public func finishSending() {
        outbound.finish()
    }

    /// The next reply line; `nil` when the server closed the connection.
    public func nextReply() async throws -> FeedAcknowledgement? {
        while true {
            if nextFrame == frames.count {
                guard let read = try await iterator.next() else { return nil }
                frames = read
                nextFrame = 0
                continue
            }
            let frame = frames[nextFrame]
            nextFrame += 1
            guard case .line(let line) = frame, line.readableBytes > 0 else { continue }
            if let iso8583 {
                // A response: field 39 `00` is an ack, anything else a nack `iso8583_39_<code>`.
                let bytes = Array(line.readableBytesView)
                guard let response = try? iso8583.decode(body: bytes.dropFirst(iso8583.packager.headerSize)) else { continue }
                lastResponse = response
                let id = ISO8583Mapper.transactionID(response)
                let code = response.text(39) ?? "??"
                if code == "00" { return .ack(id: id ?? "", duplicate: false) }
                return .nack(id: id, code: "iso8583_39_\(code)", message: "response \(response.mtiText) with field 39 \(code)")
            }
            if let reply = FeedAcknowledgement(line: line.readableBytesView) { return reply }
        }
    }

    /// The next reply with the decision it carries (nil for a nack); nil when the server closed.
    /// An ISO 8583 response carries only field 39 (see `nextReply`): no decision object.
    public func nextDecidedReply() async throws -> (reply: FeedAcknowledgement, decision: TransactionDecision?)? {
        if iso8583 != nil {
            guard let reply = try await nextReply() else { return nil }
            return (reply, nil)
        }
        while true {
            if nextFrame == frames.count {
                guard let read = try await iterator.next() else { return nil }
                frames = read
                nextFrame = 0
                continue
            }
            let frame = frames[nextFrame]
            nextFrame += 1
            guard case .line(let line) = frame, line.readableBytes > 0 else { continue }
            if let parsed = FeedAcknowledgement.parse(line: line.readableBytesView) { return parsed }
        }
    }

    /// Reads `count` replies, or fewer if the server closes first.
    public func replies(count: Int) async throws -> [FeedAcknowledgement] {
        var out: [FeedAcknowledgement] = []
        out.reserveCapacity(count)
        while out.count < count, let reply = try await nextReply() { out.append(reply) }
        return out
    }
}

/// The sending half of a feed connection; safe to use from another task.
public struct FeedClientWriter: Sendable {
    let outbound: NIOAsyncChannelOutboundWriter<ByteBuffer>

    /// Sends raw bytes.
    public func send(bytes: [UInt8]) async throws {
        try await outbound.write(ByteBuffer(bytes: bytes))
    }

    /// Half-closes the sending side.
    public func finish() {
        outbound.finish()
    }
}
