/// The devices, cards, countries and merchants an account has used, for `is_new_device`,
/// `is_new_card`, `is_new_country` and `is_new_merchant`.
///
/// Each id is kept as a 62-bit fingerprint (FNV-1a 64 of its UTF-8 bytes, top two bits
/// dropped) tagged with its kind in the top two bits, all kinds in one array: one
/// allocation of 8 bytes per entry per account, where four arrays of `String`s cost four
/// allocations of 16 bytes per entry (see docs/detection.md, "Profile size"). Two ids
/// that differ only in their last byte never share a fingerprint (multiplying by the odd
/// FNV prime is a bijection); two other ids do with probability 2⁻⁶², so an id read as
/// known that is not would be one such collision among an account's 64 of that kind.
/// The fingerprint is stable across processes and machines: checkpoints store it.
///
/// Each kind keeps at most ``cap`` entries, the least recently used dropped first.
public struct KnownEntities: Sendable, Hashable {
    /// What an entry identifies (the raw value is the tag in the top two bits).
    public enum Kind: UInt64, Sendable, CaseIterable {
        case device = 0
        case card = 1
        case country = 2
        case merchant = 3
    }

    /// Most entries kept per kind: enough for any real account, bounded for bots.
    public static let cap = 64

    private static let valueMask: UInt64 = (1 << 62) - 1

    /// Tagged fingerprints, least recently used first within each kind.
    public private(set) var entries: [UInt64] = []

    /// None known (a new account).
    public init() {}

    /// The 62-bit fingerprint of `id` (untagged): what a checkpoint stores.
    public static func fingerprint(_ id: String) -> UInt64 {
        SharedWindows.hash(id) & valueMask
    }

    private static func tagged(_ kind: Kind, _ fingerprint: UInt64) -> UInt64 {
        (fingerprint & valueMask) | (kind.rawValue << 62)
    }

    /// Whether `id` of `kind` was used before.
    public func contains(_ kind: Kind, _ id: String) -> Bool {
        entries.contains(Self.tagged(kind, Self.fingerprint(id)))
    }

    /// Entries of `kind` held.
    public func count(_ kind: Kind) -> Int {
        entries.reduce(0) { $0 + ($1 >> 62 == kind.rawValue ? 1 : 0) }
    }

    /// The fingerprints of `kind`, least recently used first (for a checkpoint).
    public func fingerprints(_ kind: Kind) -> [UInt64] {
        entries.filter { $0 >> 62 == kind.rawValue }.map { $0 & Self.valueMask }
    }

    /// Marks `id` of `kind` as used now.
    public mutating func remember(_ kind: Kind, _ id: String) {
        remember(kind, fingerprint: Self.fingerprint(id))
    }

    /// Marks the id with this fingerprint as used now (a checkpoint being loaded, oldest first).
    public mutating func remember(_ kind: Kind, fingerprint: UInt64) {
        let entry = Self.tagged(kind, fingerprint)
        if let index = entries.lastIndex(of: entry) {
            if index != entries.count - 1 {
                entries.remove(at: index)
                entries.append(entry)
            }
            return
        }
        entries.append(entry)
        if count(kind) > Self.cap, let oldest = entries.firstIndex(where: { $0 >> 62 == kind.rawValue }) {
            entries.remove(at: oldest)
        }
    }

    /// Equal when every kind holds the same fingerprints in the same order (how kinds
    /// interleave in the array is not part of the value: a checkpoint loads kind by kind).
    public static func == (a: KnownEntities, b: KnownEntities) -> Bool {
        a.entries.count == b.entries.count && Kind.allCases.allSatisfy { a.fingerprints($0) == b.fingerprints($0) }
    }

    public func hash(into hasher: inout Hasher) {
        for kind in Kind.allCases { hasher.combine(fingerprints(kind)) }
    }

    /// Heap bytes held: the array's buffer (a 32-byte header and 8 bytes per slot of its
    /// capacity), 0 when it has none.
    public var heapBytes: Int {
        entries.capacity > 0 ? 32 + entries.capacity * MemoryLayout<UInt64>.stride : 0
    }
}
