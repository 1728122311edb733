/// One ISO 8583 message: its MTI and the values of the fields present.
///
/// Values are the field contents without length prefixes: ASCII characters for `n`, `an`,
/// `ans` and `z` fields, the bytes themselves for `b` fields (whatever their wire encoding).
public struct ISO8583Message: Sendable, Hashable {
    /// The message type indicator, four ASCII digits (e.g. `0100`).
    public var mti: [UInt8]
    /// Values by field number (index 0 and 1 unused).
    private var values: [[UInt8]?]

    /// A message of type `mti` with no fields.
    public init(mti: [UInt8]) {
        self.mti = mti
        self.values = [[UInt8]?](repeating: nil, count: 129)
    }

    /// A message of type `mti` (e.g. "0110") with `fields` given as text.
    public init(mti: String, fields: [Int: String]) {
        self.init(mti: Array(mti.utf8))
        for (number, text) in fields { self[number] = Array(text.utf8) }
    }

    /// The value of field `number` (2 to 128), or nil when absent; setting nil removes it.
    public subscript(number: Int) -> [UInt8]? {
        get { number >= 2 && number <= 128 ? values[number] : nil }
        set {
            guard number >= 2 && number <= 128 else { return }
            values[number] = newValue
        }
    }

    /// The value of field `number` as text (ASCII), or nil when absent.
    public func text(_ number: Int) -> String? {
        self[number].map { String(decoding: $0, as: UTF8.self) }
    }

    /// The MTI as text.
    public var mtiText: String { String(decoding: mti, as: UTF8.self) }

    /// The numbers of the fields present, ascending.
    public var presentFields: [Int] { (2...128).filter { values[$0] != nil } }

    /// Whether any field above 64 is present (so a secondary bitmap is sent).
    var needsSecondaryBitmap: Bool { (65...128).contains { values[$0] != nil } }
}
