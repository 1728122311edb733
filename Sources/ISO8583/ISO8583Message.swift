/// One ISO 8583 message: its MTI and the values of the fields present.
///
/// Values are the field contents without length prefixes: ASCII characters for `n`, `an`,
/// `ans` and `z` fields, the bytes themselves for `b` fields (whatever their wire encoding).
///
/// The values live one after another in one buffer, found through a presence bitmap and
/// one span per field present (in field order): a decoded request is three allocations,
/// not one per field, and ``slice(_:)`` reads a value without copying it. Two messages are
/// equal when their MTIs and fields are, however their buffers were filled.
public struct ISO8583Message: Sendable {
    /// The message type indicator, four ASCII digits (e.g. `0100`).
    public var mti: [UInt8]
    /// Fields present: bit `n - 1` of `low` for fields 1–64, bit `n - 65` of `high` for 65–128.
    private var low: UInt64 = 0
    private var high: UInt64 = 0
    /// One per field present, in field order: where its value lies in `storage`
    /// (start in the high 32 bits, count in the low 32).
    private var spans: [UInt64] = []
    /// The values; a value set again is appended and the old bytes left unreferenced.
    private var storage: [UInt8] = []

    /// A message of type `mti` with no fields.
    public init(mti: [UInt8]) {
        self.mti = mti
    }

    /// A message of type `mti` (e.g. "0110") with `fields` given as text.
    public init(mti: String, fields: [Int: String]) {
        self.init(mti: Array(mti.utf8))
        for (number, text) in fields { self[number] = Array(text.utf8) }
    }

    /// Room for `fields` fields holding `bytes` bytes in all, so that filling it grows nothing.
    public mutating func reserveCapacity(fields: Int, bytes: Int) {
        spans.reserveCapacity(fields)
        storage.reserveCapacity(bytes)
    }

    /// The value of field `number` (2 to 128), or nil when absent; setting nil removes it.
    public subscript(number: Int) -> [UInt8]? {
        get { slice(number).map(Array.init) }
        set {
            if let newValue { set(number, newValue) } else { remove(number) }
        }
    }

    /// The value of field `number` without a copy (its indices are the buffer's, not from 0),
    /// or nil when absent or not a field number.
    public func slice(_ number: Int) -> ArraySlice<UInt8>? {
        guard number >= 2 && number <= 128, isPresent(number) else { return nil }
        return storage[Self.range(spans[rank(number)])]
    }

    /// Sets field `number` (2 to 128; others are ignored) to the bytes of `value`.
    public mutating func set(_ number: Int, _ value: some Collection<UInt8>) {
        guard number >= 2 && number <= 128 else { return }
        let span = UInt64(storage.count) << 32 | UInt64(value.count)
        storage.append(contentsOf: value)
        let index = rank(number)
        if isPresent(number) {
            spans[index] = span
        } else {
            spans.insert(span, at: index)
            if number <= 64 { low |= 1 << UInt64(number - 1) } else { high |= 1 << UInt64(number - 65) }
        }
    }

    /// Removes field `number` when present.
    public mutating func remove(_ number: Int) {
        guard number >= 2 && number <= 128, isPresent(number) else { return }
        spans.remove(at: rank(number))
        if number <= 64 { low &= ~(1 << UInt64(number - 1)) } else { high &= ~(1 << UInt64(number - 65)) }
    }

    /// Calls `body` with each field present and its value, ascending.
    public func forEachField<E: Error>(_ body: (Int, ArraySlice<UInt8>) throws(E) -> Void) throws(E) {
        var index = 0
        var bits = low
        var base = 1
        while true {
            while bits != 0 {
                try body(base + bits.trailingZeroBitCount, storage[Self.range(spans[index])])
                index += 1
                bits &= bits - 1
            }
            guard base == 1 else { return }
            (bits, base) = (high, 65)
        }
    }

    /// The value of field `number` as text (ASCII), or nil when absent.
    public func text(_ number: Int) -> String? {
        slice(number).map { String(decoding: $0, as: UTF8.self) }
    }

    /// The MTI as text.
    public var mtiText: String { String(decoding: mti, as: UTF8.self) }

    /// The numbers of the fields present, ascending.
    public var presentFields: [Int] {
        var numbers: [Int] = []
        numbers.reserveCapacity(spans.count)
        forEachField { number, _ in numbers.append(number) }
        return numbers
    }

    /// The primary bitmap's bits for fields 2–64 (bit 1, "secondary present", not set) and
    /// the secondary bitmap's for 65–128, as they go on the wire (field 2 is bit 62 of the first).
    var bitmaps: (primary: UInt64, secondary: UInt64) {
        ((low & ~1).bitReversedWord, high.bitReversedWord)
    }

    /// Whether any field above 64 is present (so a secondary bitmap is sent).
    var needsSecondaryBitmap: Bool { high != 0 }

    private func isPresent(_ number: Int) -> Bool {
        number <= 64 ? low & (1 << UInt64(number - 1)) != 0 : high & (1 << UInt64(number - 65)) != 0
    }

    /// How many fields below `number` are present: the index of its span.
    private func rank(_ number: Int) -> Int {
        if number <= 64 {
            let below = number == 1 ? 0 : low & (UInt64.max >> UInt64(65 - number))
            return below.nonzeroBitCount
        }
        let below = number == 65 ? 0 : high & (UInt64.max >> UInt64(129 - number))
        return low.nonzeroBitCount + below.nonzeroBitCount
    }

    private static func range(_ span: UInt64) -> Range<Int> {
        let start = Int(span >> 32)
        return start..<start + Int(span & 0xFFFF_FFFF)
    }
}

extension ISO8583Message: Hashable {
    public static func == (lhs: ISO8583Message, rhs: ISO8583Message) -> Bool {
        guard lhs.mti == rhs.mti, lhs.low == rhs.low, lhs.high == rhs.high else { return false }
        for index in lhs.spans.indices where lhs.storage[range(lhs.spans[index])] != rhs.storage[range(rhs.spans[index])] {
            return false
        }
        return true
    }

    public func hash(into hasher: inout Hasher) {
        hasher.combine(mti)
        hasher.combine(low)
        hasher.combine(high)
        for span in spans { hasher.combine(storage[Self.range(span)]) }
    }
}

extension UInt64 {
    /// The bits in reverse order (bit 0 becomes bit 63).
    fileprivate var bitReversedWord: UInt64 {
        var value = self
        value = (value >> 1) & 0x5555_5555_5555_5555 | (value & 0x5555_5555_5555_5555) << 1
        value = (value >> 2) & 0x3333_3333_3333_3333 | (value & 0x3333_3333_3333_3333) << 2
        value = (value >> 4) & 0x0F0F_0F0F_0F0F_0F0F | (value & 0x0F0F_0F0F_0F0F_0F0F) << 4
        return value.byteSwapped
    }
}
