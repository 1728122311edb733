/// A dialect of ISO 8583: how the frame, the MTI, the bitmaps and each field are laid out.
///
/// Loaded from a packager file (``load(contentsOf:path:)``, format in `docs/iso8583.md`) and
/// validated as a whole at load, so another host's flavour is configuration, not code.
/// Immutable and `Sendable`: one instance serves every connection.
public struct ISO8583Packager: Sendable, Hashable {
    /// How a frame says how long it is.
    public enum LengthHeader: String, Sendable, Hashable, CaseIterable {
        /// Two bytes, big-endian, counting the bytes after them (the common TCP framing).
        case binary2
        /// Four ASCII digits counting the bytes after them.
        case ascii4
    }

    /// How the MTI and bitmaps are carried.
    public enum BitmapEncoding: String, Sendable, Hashable, CaseIterable {
        /// 16 ASCII hexadecimal characters per bitmap (jPOS `IFA_BITMAP`).
        case hex
        /// 8 bytes per bitmap (jPOS `IFB_BITMAP`).
        case binary
    }

    /// How a field of type `b` is carried.
    public enum BinaryEncoding: String, Sendable, Hashable, CaseIterable {
        /// Two ASCII hexadecimal characters per byte (jPOS `IFA_BINARY`).
        case hex
        /// The bytes as they are (jPOS `IFB_BINARY`).
        case raw
    }

    /// The packager's name (for logs and errors).
    public let name: String
    public let lengthHeader: LengthHeader
    public let bitmap: BitmapEncoding
    public let binary: BinaryEncoding
    /// Field descriptions by number (index 0 and 1 unused: MTI and bitmap are not fields here).
    let fields: [ISO8583FieldSpec?]

    /// Creates a packager; `specs` are checked by the loader, not here.
    init(name: String, lengthHeader: LengthHeader, bitmap: BitmapEncoding, binary: BinaryEncoding, specs: [ISO8583FieldSpec]) {
        self.name = name
        self.lengthHeader = lengthHeader
        self.bitmap = bitmap
        self.binary = binary
        var table = [ISO8583FieldSpec?](repeating: nil, count: 129)
        for spec in specs where spec.number >= 2 && spec.number <= 128 { table[spec.number] = spec }
        self.fields = table
    }

    /// The description of field `number`, if the dialect has one.
    public func spec(_ number: Int) -> ISO8583FieldSpec? {
        guard number >= 0, number < fields.count else { return nil }
        return fields[number]
    }

    /// Bytes of the length header.
    public var headerSize: Int { lengthHeader == .binary2 ? 2 : 4 }

    /// The largest body the header can describe.
    public var maximumBodyLength: Int { lengthHeader == .binary2 ? 65_535 : 9_999 }
}

/// One field of a dialect: its content type, length rule and limit.
public struct ISO8583FieldSpec: Sendable, Hashable {
    /// What the field may contain.
    public enum ContentType: String, Sendable, Hashable, CaseIterable {
        /// Digits only.
        case n
        /// Letters and digits.
        case an
        /// Letters, digits, space and special characters (printable ASCII).
        case ans
        /// Binary (carried as the packager's ``ISO8583Packager/BinaryEncoding``).
        case b
        /// Track 2 and 3 code set: digits, `=`, `D` (separator) and `F` (padding).
        case z
    }

    /// How the field's length is known.
    public enum LengthRule: String, Sendable, Hashable, CaseIterable {
        /// Always `max` characters (bytes for `b`).
        case fixed
        /// Two ASCII digits of length, then up to 99.
        case llvar
        /// Three ASCII digits of length, then up to 999.
        case lllvar

        /// Digits of the length prefix.
        var prefixDigits: Int {
            switch self {
            case .fixed: 0
            case .llvar: 2
            case .lllvar: 3
            }
        }
    }

    /// The field number, 2 to 128.
    public let number: Int
    public let type: ContentType
    public let length: LengthRule
    /// The fixed length, or the longest a variable field may be (in characters; bytes for `b`).
    public let max: Int
    /// A human name, e.g. "Systems trace audit number".
    public let name: String

    /// Creates a field description.
    public init(number: Int, type: ContentType, length: LengthRule, max: Int, name: String) {
        self.number = number
        self.type = type
        self.length = length
        self.max = max
        self.name = name
    }

    /// Whether `byte` may appear in a field of this type.
    func allows(_ byte: UInt8) -> Bool {
        switch type {
        case .n: byte &- 0x30 < 10
        case .an: byte &- 0x30 < 10 || byte &- 0x41 < 26 || byte &- 0x61 < 26 || byte == 0x20
        case .ans: byte >= 0x20 && byte < 0x7F
        case .b: true
        case .z: byte &- 0x30 < 10 || byte == UInt8(ascii: "=") || byte == UInt8(ascii: "D") || byte == UInt8(ascii: "F")
        }
    }
}
