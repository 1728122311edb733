import ArgumentParser
import ISO8583

/// `--format` and `--iso8583-packager` of `vigil feed send|bench`.
struct FeedFormatOptions: ParsableArguments {
    /// The wire formats a feed client can speak.
    enum Format: String, ExpressibleByArgument, CaseIterable {
        case ndjson, iso8583
    }

    @Option(help: "Wire format: ndjson (the feed port) or iso8583 (the --iso8583-port of vigil serve; each record sent as a 0200).")
    var format: Format = .ndjson
    @Option(help: "Packager file of the ISO 8583 dialect (with --format iso8583).")
    var iso8583Packager: String = "Packagers/iso87ascii.json"

    /// The dialect for `--format iso8583`, nil for NDJSON; an unusable file ends the command with its problems.
    func packager(command: String) throws -> ISO8583Packager? {
        guard format == .iso8583 else { return nil }
        do {
            return try ISO8583Packager.load(path: iso8583Packager)
        } catch {
            throw CleanExit.failure("vigil \(command): the ISO 8583 packager is not usable:\n\(error)")
        }
    }
}

/// Splits ISO 8583 reply bytes into frames and classifies each by its field 39:
/// `00` an ack, any other code a nack `iso8583_39_<code>`. Field 39 is located, not decoded
/// with the rest: the client shares the machine with the server it measures.
struct ISO8583ReplyScanner {
    let packager: ISO8583Packager
    private var buffer: [UInt8] = []

    init(packager: ISO8583Packager) {
        self.packager = packager
    }

    mutating func scan(_ bytes: UnsafeRawBufferPointer, _ body: (BenchReplyKind) -> Void) {
        buffer.append(contentsOf: bytes)
        var start = 0
        let header = packager.headerSize
        while buffer.count - start >= header, let length = packager.bodyLength(header: buffer[start..<start + header]),
            buffer.count - start >= header + length
        {
            body(Self.classify(buffer[(start + header)..<(start + header + length)], packager))
            start += header + length
        }
        buffer.removeFirst(start)
    }

    static func classify(_ frame: ArraySlice<UInt8>, _ packager: ISO8583Packager) -> BenchReplyKind {
        guard let range = packager.locate(field: 39, in: frame) else { return .unparsed }
        let code = frame[range]
        if code.elementsEqual("00".utf8) { return .ack(duplicate: false) }
        return .nack(code: "iso8583_39_\(String(decoding: code, as: UTF8.self))")
    }
}
