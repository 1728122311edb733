/// Why a frame is not a well-formed message of the dialect, and what of it could be read.
public struct ISO8583DecodeError: Error, Sendable, Hashable, CustomStringConvertible {
    /// What was wrong; the raw value is what goes to `rejected_records.error_code`.
    public enum Code: String, Sendable, Hashable, CaseIterable {
        /// The frame ended before the MTI or a bitmap was complete.
        case truncated = "iso8583_truncated"
        /// The MTI is not four ASCII digits.
        case badMTI = "iso8583_bad_mti"
        /// A bitmap is not hexadecimal (or the secondary bitmap is missing).
        case badBitmap = "iso8583_bad_bitmap"
        /// The bitmap announces a field the packager does not describe.
        case unknownField = "iso8583_unknown_field"
        /// A variable field's length prefix is not digits.
        case badLengthPrefix = "iso8583_bad_length_prefix"
        /// A variable field is longer than the packager allows.
        case fieldTooLong = "iso8583_field_too_long"
        /// The length header disagrees with the fields: they need more bytes than it
        /// counted, or bytes are left over after the last field.
        case lengthHeaderMismatch = "iso8583_length_header_mismatch"
        /// A field holds a character its type does not allow (a letter in an `n` field).
        case invalidCharacter = "iso8583_invalid_character"
        /// The frame is longer than the listener accepts (the header's count is given).
        case frameTooLong = "iso8583_frame_too_long"
    }

    public var code: Code
    /// The field at fault, when one is.
    public var field: Int?
    /// Byte offset from the start of the frame (length header included) where it went wrong.
    public var offset: Int
    /// A sentence that names the field and offset and says what was expected.
    public var message: String
    /// What was read before the problem: the MTI (if valid) and the fields decoded so far.
    public var partial: ISO8583Message?
    /// Whether the MTI and the correlation fields (11, and 37, 41, 42 when present) were
    /// read intact, so that the sender can be answered with a format error.
    public var correlationReadable: Bool

    /// Creates an error.
    public init(code: Code, field: Int? = nil, offset: Int, message: String, partial: ISO8583Message? = nil, correlationReadable: Bool = false) {
        self.code = code
        self.field = field
        self.offset = offset
        self.message = message
        self.partial = partial
        self.correlationReadable = correlationReadable
    }

    public var description: String { "\(code.rawValue)\(field.map { " (field \($0))" } ?? "") at byte \(offset): \(message)" }
}
