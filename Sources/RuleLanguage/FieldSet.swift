/// A set of fields as a bitmap over `Field`'s slots (at most 128): a membership test is a
/// shift and a mask, cheap enough for enrichment to ask it about each field of each
/// transaction.
public struct FieldSet: Sendable, Hashable {
    @usableFromInline var low: UInt64 = 0
    @usableFromInline var high: UInt64 = 0

    /// The empty set.
    public init() {}

    /// The given fields.
    public init(_ fields: some Sequence<Field>) {
        for field in fields { insert(field) }
    }

    /// Every field.
    public static let all = FieldSet(Field.allCases)

    /// Adds `field`.
    public mutating func insert(_ field: Field) {
        precondition(field.rawValue < 128, "FieldSet holds the first 128 fields; widen it")
        let bit = UInt64(1) << UInt64(field.rawValue & 63)
        if field.rawValue < 64 { low |= bit } else { high |= bit }
    }

    /// Whether `field` is in the set.
    @inlinable
    public func contains(_ field: Field) -> Bool {
        (field.rawValue < 64 ? low : high) >> UInt64(field.rawValue & 63) & 1 == 1
    }
}
