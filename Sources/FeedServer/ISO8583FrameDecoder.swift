import ISO8583
import NIOCore

/// Splits the byte stream into length-prefixed ISO 8583 frames (header included, so
/// offsets in errors count from the header's first byte).
///
/// Every frame complete in what the socket delivered goes up as one array. A header that
/// announces more than `maximumLength` (or an ASCII header that is not digits) cannot be
/// skipped safely: it is reported once as `.tooLong` and everything after it is dropped
/// (the listener closes the connection). Bytes of an unfinished frame when the connection
/// ends are reported as `.truncated`. An empty frame (header 0) is a keep-alive.
struct ISO8583FrameDecoder: ByteToMessageDecoder {
    typealias InboundOut = [FeedFrame]
    static let maximumFramesPerRead = 1024
    static let keptPrefix = 4096

    let packager: ISO8583Packager
    let maximumLength: Int
    /// Set after an unusable header: the rest of the stream is discarded.
    private var broken = false

    init(packager: ISO8583Packager, maximumLength: Int) {
        self.packager = packager
        self.maximumLength = maximumLength
    }

    mutating func decode(context: ChannelHandlerContext, buffer: inout ByteBuffer) throws -> DecodingState {
        var frames: [FeedFrame] = []
        while frames.count < Self.maximumFramesPerRead, let frame = nextFrame(&buffer) {
            frames.append(frame)
        }
        guard !frames.isEmpty else { return .needMoreData }
        context.fireChannelRead(wrapInboundOut(frames))
        return .continue
    }

    /// The next frame in `buffer`, or nil when it needs more bytes.
    mutating func nextFrame(_ buffer: inout ByteBuffer) -> FeedFrame? {
        while true {
            if broken {
                buffer.moveReaderIndex(to: buffer.writerIndex)
                return nil
            }
            let header = packager.headerSize
            guard let headerBytes = buffer.getBytes(at: buffer.readerIndex, length: header) else { return nil }
            guard let length = packager.bodyLength(header: headerBytes), length <= maximumLength else {
                broken = true
                let prefix = buffer.getSlice(at: buffer.readerIndex, length: min(Self.keptPrefix, buffer.readableBytes)) ?? ByteBuffer()
                return .tooLong(prefix: prefix, length: packager.bodyLength(header: headerBytes) ?? -1)
            }
            if length == 0 {
                buffer.moveReaderIndex(forwardBy: header)
                continue
            }
            guard buffer.readableBytes >= header + length, let frame = buffer.readSlice(length: header + length) else { return nil }
            return .line(frame)
        }
    }

    mutating func decodeLast(context: ChannelHandlerContext, buffer: inout ByteBuffer, seenEOF: Bool) throws -> DecodingState {
        while try decode(context: context, buffer: &buffer) == .continue {}
        if !broken, buffer.readableBytes > 0 {
            let declared = buffer.getBytes(at: buffer.readerIndex, length: min(packager.headerSize, buffer.readableBytes)).flatMap {
                packager.bodyLength(header: $0)
            }
            let prefix = buffer.getSlice(at: buffer.readerIndex, length: min(Self.keptPrefix, buffer.readableBytes)) ?? ByteBuffer()
            context.fireChannelRead(wrapInboundOut([.truncated(prefix: prefix, declared: declared ?? -1)]))
        }
        buffer.moveReaderIndex(to: buffer.writerIndex)
        return .needMoreData
    }
}
