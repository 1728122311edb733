import ISO8583

/// What a feed listener speaks on its connections.
public enum FeedWireFormat: Sendable {
    /// Protocol v1: one JSON object per line, one JSON reply line per record.
    case ndjson
    /// ISO 8583 frames of a dialect, each answered with its response message.
    case iso8583(ISO8583Wire)
}

/// An ISO 8583 listener's dialect and response codes.
public struct ISO8583Wire: Sendable {
    /// The dialect (framing, bitmaps, fields), from a packager file.
    public var packager: ISO8583Packager
    /// The field 39 codes answered.
    public var codes: ISO8583ResponseCodes
    /// The decoder of `packager`'s messages.
    public var decoder: ISO8583Decoder { ISO8583Decoder(packager: packager) }

    /// Creates the wire settings.
    public init(packager: ISO8583Packager, codes: ISO8583ResponseCodes = ISO8583ResponseCodes()) {
        self.packager = packager
        self.codes = codes
    }
}
