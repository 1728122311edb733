import NIOCore

/// One framed unit of the feed: a complete line, or the notice that a line was longer
/// than the limit (its first bytes kept for the rejects table, the rest discarded).
public enum FeedFrame: Sendable, Equatable {
    /// A complete line without its `\n` (and without a trailing `\r`).
    case line(ByteBuffer)
    /// A line longer than the limit; `prefix` holds its first bytes, `length` its size.
    case tooLong(prefix: ByteBuffer, length: Int)
    /// A length-prefixed frame cut short by the end of the connection (ISO 8583): its
    /// bytes so far and the length its header announced.
    case truncated(prefix: ByteBuffer, declared: Int)
}

/// Splits the byte stream into `\n`-terminated lines of at most `maximumLength` bytes.
///
/// Every line complete in what the socket delivered goes up as one array (at most
/// `maximumFramesPerRead`), so the reader hands records to the pipeline in batches
/// rather than paying a hand-over per line.
///
/// An over-long line does not kill the connection: it is reported once as `.tooLong`
/// and skipped up to its newline, and the lines after it are read as usual. Bytes
/// after the last newline when the connection closes are a partial record and are
/// dropped: a sender whose connection broke mid-line re-sends that record.
struct FeedLineDecoder: ByteToMessageDecoder {
    typealias InboundOut = [FeedFrame]
    static let maximumFramesPerRead = 1024

    let maximumLength: Int
    let keptPrefix: Int
    /// Bytes of the current (unfinished) line already searched for a newline.
    private var scanned = 0
    /// Set while skipping the rest of an over-long line.
    private var discarding: (prefix: ByteBuffer, length: Int)?

    init(maximumLength: Int, keptPrefix: Int = 4096) {
        self.maximumLength = maximumLength
        self.keptPrefix = min(keptPrefix, maximumLength)
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

    /// The next frame in `buffer`, or nil when it needs more bytes. (`decode` batches
    /// these; the framing itself is verified one frame at a time through this.)
    mutating func nextFrame(_ buffer: inout ByteBuffer) -> FeedFrame? {
        let newline = UInt8(ascii: "\n")
        if var skipping = discarding {
            let view = buffer.readableBytesView
            if let end = view.firstIndex(of: newline) {
                let consumed = end - view.startIndex
                skipping.length += consumed
                buffer.moveReaderIndex(forwardBy: consumed + 1)
                discarding = nil
                return .tooLong(prefix: skipping.prefix, length: skipping.length)
            }
            skipping.length += view.count
            discarding = skipping
            buffer.moveReaderIndex(forwardBy: view.count)
            return nil
        }

        let view = buffer.readableBytesView
        let searchStart = view.index(view.startIndex, offsetBy: min(scanned, view.count))
        guard let end = view[searchStart...].firstIndex(of: newline) else {
            scanned = view.count
            if view.count > maximumLength {
                let prefix = buffer.getSlice(at: buffer.readerIndex, length: keptPrefix) ?? ByteBuffer()
                discarding = (prefix, view.count)
                buffer.moveReaderIndex(forwardBy: view.count)
                scanned = 0
            }
            return nil
        }
        scanned = 0
        var length = end - view.startIndex
        if length > maximumLength {
            let prefix = buffer.getSlice(at: buffer.readerIndex, length: keptPrefix) ?? ByteBuffer()
            buffer.moveReaderIndex(forwardBy: length + 1)
            return .tooLong(prefix: prefix, length: length)
        }
        // Accept CRLF senders.
        if length > 0, view[view.startIndex + length - 1] == UInt8(ascii: "\r") { length -= 1 }
        let line = buffer.getSlice(at: buffer.readerIndex, length: length) ?? ByteBuffer()
        buffer.moveReaderIndex(forwardBy: end - view.startIndex + 1)
        return .line(line)
    }

    mutating func decodeLast(context: ChannelHandlerContext, buffer: inout ByteBuffer, seenEOF: Bool) throws -> DecodingState {
        while try decode(context: context, buffer: &buffer) == .continue {}
        // Whatever is left is a partial line: never turned into a record.
        buffer.moveReaderIndex(to: buffer.writerIndex)
        return .needMoreData
    }
}
