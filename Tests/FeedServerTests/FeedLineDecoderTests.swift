import NIOCore
import NIOEmbedded
import NIOTestUtils
import Testing

@testable import FeedServer

/// `FeedLineDecoder` one frame at a time, so NIO's verifier can compare frames whatever
/// way the bytes are split (`decode` itself batches the same frames into arrays).
private struct OneFrameAtATime: ByteToMessageDecoder {
    typealias InboundOut = FeedFrame
    var decoder: FeedLineDecoder

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

@Suite struct FeedLineDecoderTests {
    private func line(_ text: String) -> FeedFrame { .line(ByteBuffer(string: text)) }

    @Test func framesAreTheSameHoweverTheBytesArrive() throws {
        // Limit 8 bytes a line, 4 kept of an over-long one.
        let pairs: [(ByteBuffer, [FeedFrame])] = [
            (ByteBuffer(string: "{\"a\":1}\n"), [line("{\"a\":1}")]),
            (ByteBuffer(string: "crlf\r\n"), [line("crlf")]),
            (ByteBuffer(string: "\n"), [line("")]),
            (ByteBuffer(string: "12345678\n"), [line("12345678")]),  // exactly the limit
            (ByteBuffer(string: "0123456789ab\n"), [.tooLong(prefix: ByteBuffer(string: "0123"), length: 12)]),
            (ByteBuffer(string: "x\ny\n"), [line("x"), line("y")]),
        ]
        try ByteToMessageDecoderVerifier.verifyDecoder(inputOutputPairs: pairs) {
            OneFrameAtATime(decoder: FeedLineDecoder(maximumLength: 8, keptPrefix: 4))
        }
    }

    @Test func completeLinesOfOneReadGoUpAsOneBatchAndAPartialLineIsDropped() throws {
        let channel = EmbeddedChannel(handler: ByteToMessageHandler(FeedLineDecoder(maximumLength: 64)))
        try channel.writeInbound(ByteBuffer(string: "a\nbb\nccc\npart"))
        #expect(try channel.readInbound(as: [FeedFrame].self) == [line("a"), line("bb"), line("ccc")])
        #expect(try channel.readInbound(as: [FeedFrame].self) == nil)
        try channel.writeInbound(ByteBuffer(string: "ial"))
        #expect(try channel.readInbound(as: [FeedFrame].self) == nil)  // still no newline
        // The connection closes mid-line: the partial record is never a frame.
        #expect(try channel.finish().isClean)
    }

    @Test func anOverLongLineIsReportedOnceAndTheNextLineIsRead() throws {
        let channel = EmbeddedChannel(handler: ByteToMessageHandler(FeedLineDecoder(maximumLength: 4, keptPrefix: 2)))
        try channel.writeInbound(ByteBuffer(string: "abcdef"))  // over the limit before its newline
        #expect(try channel.readInbound(as: [FeedFrame].self) == nil)
        try channel.writeInbound(ByteBuffer(string: "gh\nok\n"))
        #expect(try channel.readInbound(as: [FeedFrame].self) == [.tooLong(prefix: ByteBuffer(string: "ab"), length: 8), line("ok")])
        #expect(try channel.finish().isClean)
    }
}
