import FeedProtocol
import Foundation
import ISO8583
import NIOCore
import NIOEmbedded
import NIOTestUtils
import Testing
import VigilCore

@testable import FeedServer

/// The shipped ISO87A dialect, read from the repository.
func iso87() throws -> ISO8583Packager {
    let root = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent()
    return try ISO8583Packager.load(path: root.appendingPathComponent("Packagers/iso87ascii.json").path)
}

/// A 0200 for `account` with STAN `stan`, sent a minute ago.
func financialRequest(stan: String, account: String = "acc-1") -> ISO8583Message {
    let (date, time) = RFC3339.components(Timestamp.now().adding(microseconds: -60_000_000))
    let field7 = [date.month, date.day, time.hour, time.minute, time.second].map { $0 < 10 ? "0\($0)" : "\($0)" }.joined()
    return ISO8583Message(
        mti: "0200",
        fields: [3: "000000", 4: "000000001000", 7: field7, 11: stan, 37: "000000\(stan)", 41: "TERM0001", 49: "978", 102: account])
}

/// One frame at a time, so NIO's verifier can compare frames however the bytes are split.
private struct OneISOFrameAtATime: ByteToMessageDecoder {
    typealias InboundOut = FeedFrame
    var decoder: ISO8583FrameDecoder

    mutating func decode(context: ChannelHandlerContext, buffer: inout ByteBuffer) throws -> DecodingState {
        guard let frame = decoder.nextFrame(&buffer) else { return .needMoreData }
        context.fireChannelRead(wrapInboundOut(frame))
        return .continue
    }

    mutating func decodeLast(context: ChannelHandlerContext, buffer: inout ByteBuffer, seenEOF: Bool) throws -> DecodingState {
        while try decode(context: context, buffer: &buffer) == .continue {}
        buffer.moveReaderIndex(to: buffer.writerIndex)
        return .needMoreData
    }
}

@Suite struct ISO8583ListenerTests {
    @Test func framesAreTheSameHoweverTheBytesArrive() throws {
        let packager = try iso87()
        let first = try packager.encode(financialRequest(stan: "000001"))
        let second = try packager.encode(financialRequest(stan: "000002"))
        let keepAlive: [UInt8] = [0, 0]
        try ByteToMessageDecoderVerifier.verifyDecoder(
            inputOutputPairs: [
                (ByteBuffer(bytes: first + keepAlive + second), [.line(ByteBuffer(bytes: first)), .line(ByteBuffer(bytes: second))])
            ],
            decoderFactory: { OneISOFrameAtATime(decoder: ISO8583FrameDecoder(packager: packager, maximumLength: 1024)) })
    }

    @Test func anOversizedHeaderEndsTheStream() throws {
        var decoder = ISO8583FrameDecoder(packager: try iso87(), maximumLength: 100)
        var buffer = ByteBuffer(bytes: [0x01, 0x00] + [UInt8](repeating: 0x30, count: 300))
        guard case .tooLong(_, let length) = decoder.nextFrame(&buffer) else {
            Issue.record("no tooLong frame")
            return
        }
        #expect(length == 256)
        #expect(decoder.nextFrame(&buffer) == nil)
        #expect(buffer.readableBytes == 0)
    }

    @Test func responsesFollowRequestOrderWhateverOrderThePipelineAnswersIn() async throws {
        let packager = try iso87()
        let sink = RecordingSink(.answerReversed(every: 3))
        try await withFeedServer(sink: sink, configure: { $0.wire = .iso8583(ISO8583Wire(packager: packager)) }) { port, _, _ in
            let stans = (1...6).map { String(format: "%06d", $0) }
            let stansSeen = try await FeedClient.withConnection(host: "127.0.0.1", port: port, iso8583: packager) { connection in
                var bytes: [UInt8] = []
                for stan in stans { bytes += try packager.encode(financialRequest(stan: stan)) }
                try await connection.send(bytes: bytes)
                var seen: [String] = []
                for _ in stans {
                    #expect(
                        try await connection.nextReply()
                            == .ack(id: connection.lastResponse.flatMap(ISO8583Mapper.transactionID) ?? "?", duplicate: false))
                    #expect(connection.lastResponse?.mtiText == "0210")
                    seen.append(connection.lastResponse?.text(11) ?? "")
                }
                return seen
            }
            #expect(stansSeen == stans)
        }
    }

    @Test func requestsThePipelineRefusedGetNoResponseAndTheOthersKeepTheirs() async throws {
        let packager = try iso87()
        let sink = RecordingSink(.refuse(account: "acc-refused"))
        try await withFeedServer(sink: sink, configure: { $0.wire = .iso8583(ISO8583Wire(packager: packager)) }) { port, _, _ in
            let responses = try await FeedClient.withConnection(host: "127.0.0.1", port: port, iso8583: packager) { connection in
                let bytes =
                    try packager.encode(financialRequest(stan: "000011")) + packager.encode(financialRequest(stan: "000012", account: "acc-refused"))
                    + packager.encode(financialRequest(stan: "000013"))
                try await connection.send(bytes: bytes)
                var stans: [String] = []
                while try await connection.nextReply() != nil { stans.append(connection.lastResponse?.text(11) ?? "") }
                return stans
            }
            // The pipeline refused the second (it was shutting down): the reader stops there,
            // and the one it took is answered with its own STAN.
            #expect(responses == ["000011"])
        }
    }

    @Test func aConnectionOverTheCapIsClosedWithoutBytes() async throws {
        let packager = try iso87()
        try await withFeedServer(
            sink: RecordingSink(.answer),
            configure: {
                $0.wire = .iso8583(ISO8583Wire(packager: packager))
                $0.maximumConnections = 1
                $0.metricsPrefix = "vigil_iso8583"
            }
        ) { port, server, _ in
            try await FeedClient.withConnection(host: "127.0.0.1", port: port, iso8583: packager) { first in
                try await first.send(bytes: try packager.encode(financialRequest(stan: "000021")))
                #expect(try await first.nextReply() != nil)
                let refused = try await FeedClient.withConnection(host: "127.0.0.1", port: port, iso8583: packager) { second in
                    try await second.nextReply()
                }
                #expect(refused == nil)
                #expect(server.connectionCount == 1)
            }
        }
    }
}
