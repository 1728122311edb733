import PostgresStore
import Synchronization

/// Every stored transaction id, as a Bloom filter: which ids of a batch *may* be stored.
///
/// The detection workers ask PostgreSQL which ids of each batch are stored already, so a
/// sender's replay is never counted twice by profiles and windows. Almost every id of a
/// live feed is new, and at 5,000 records a second that lookup ran a statement for every
/// two or three records (docs/benchmarks.md). With this filter only the ids it says may
/// be stored are looked up: a new id is a false positive with a probability of about 1%,
/// and an id that is stored is never missed, because
/// - it is loaded from `transactions` by ``StoredIDLoader`` (on a connection of its own,
///   after the lease is taken with `--ha`: an old leader is fenced by then), and
/// - the writer adds the ids of each batch after its commit and before its replies, so a
///   record stored while or after the load ran is in it before its sender hears of it.
///
/// Until a load has finished every id "may be stored": the lookup covers them all, as
/// before the filter. (A node leads at most once in its life, and a standby runs neither
/// the loader nor the writer, so no other node stores records while a loaded filter is
/// used.) About 10 bits an id: 12 MB for ten million stored transactions, grown a layer
/// at a time.
public final class StoredIDFilter: Sendable {
    private struct State {
        /// The filter the workers ask; nil while none is complete.
        var current: BloomLayers?
        /// The one being loaded, which the writer's additions also reach.
        var loading: BloomLayers?
    }

    private let state = Mutex(State())

    public init() {}

    /// Whether the filter answers now (a load has finished since the last invalidation).
    public var isLoaded: Bool { state.withLock { $0.current != nil } }

    /// Of `ids`, those that may be stored (all of them while the filter is not loaded).
    public func mayBeStored(_ ids: [String]) -> [String] {
        state.withLock { state in
            guard let filter = state.current else { return ids }
            return ids.filter { filter.contains(SharedWindows.hash($0)) }
        }
    }

    /// Adds ids just stored (the writer, after its commit).
    public func add(_ ids: [String]) {
        guard !ids.isEmpty else { return }
        let hashes = ids.map(SharedWindows.hash)
        state.withLock { state in
            for hash in hashes {
                state.current?.insert(hash)
                state.loading?.insert(hash)
            }
        }
    }

    /// Loads every stored id from `transactions` on `db` and installs the result; returns
    /// how many rows were read. A load that fails leaves the filter as it was.
    @discardableResult
    public func load(on db: PostgresConnection) async throws -> Int {
        // The planner's estimate sizes the first layer; more layers follow if it was low.
        let estimate = try await db.query("SELECT greatest(reltuples, 0)::bigint FROM pg_class WHERE relname = 'transactions'")
        let expected = Int(try estimate.first?.decode(0, as: Int64.self) ?? 0)
        // Begun before the scan's snapshot: whatever commits after it, the writer adds here.
        state.withLock { $0.loading = BloomLayers(expected: expected) }
        let rows = try await Self.scan(on: db) { hashes in
            self.state.withLock { state in
                for hash in hashes { state.loading?.insert(hash) }
            }
        }
        state.withLock { state in
            guard let loaded = state.loading else { return }
            state.current = loaded
            state.loading = nil
        }
        return rows
    }

    /// Streams the hash of every stored id to `body`, a few thousand at a time.
    private static func scan(on db: isolated PostgresConnection, _ body: @Sendable ([UInt64]) -> Void) throws -> Int {
        var hashes: [UInt64] = []
        hashes.reserveCapacity(8_192)
        var unescaped: [UInt8] = []
        let rows = try db.copyOut("COPY (SELECT id FROM transactions) TO STDOUT") { row in
            if row.contains(UInt8(ascii: "\\")) {
                unescaped.removeAll(keepingCapacity: true)
                Self.unescapeCopyText(row, into: &unescaped)
                hashes.append(unescaped.withUnsafeBufferPointer(SharedWindows.hash))
            } else {
                hashes.append(SharedWindows.hash(row))
            }
            if hashes.count == 8_192 {
                body(hashes)
                hashes.removeAll(keepingCapacity: true)
            }
        }
        body(hashes)
        return rows
    }

    /// A field of `COPY ... TO STDOUT` (text format) as it was stored: PostgreSQL writes a
    /// backslash, and the control characters below, as a backslash and a letter.
    static func unescapeCopyText(_ field: UnsafeBufferPointer<UInt8>, into bytes: inout [UInt8]) {
        var escaped = false
        for byte in field {
            guard escaped else {
                if byte == UInt8(ascii: "\\") { escaped = true } else { bytes.append(byte) }
                continue
            }
            escaped = false
            switch byte {
            case UInt8(ascii: "b"): bytes.append(8)
            case UInt8(ascii: "f"): bytes.append(12)
            case UInt8(ascii: "n"): bytes.append(10)
            case UInt8(ascii: "r"): bytes.append(13)
            case UInt8(ascii: "t"): bytes.append(9)
            case UInt8(ascii: "v"): bytes.append(11)
            default: bytes.append(byte)  // a backslash itself
            }
        }
    }
}

/// A Bloom filter that grows: when a layer holds what it was sized for, a layer twice as
/// large is added; an id may be present if any layer says so.
struct BloomLayers: Sendable {
    private var layers: [BloomLayer]

    init(expected: Int) {
        layers = [BloomLayer(capacity: max(expected + expected / 4, 65_536))]
    }

    mutating func insert(_ hash: UInt64) {
        if layers[layers.count - 1].isFull {
            layers.append(BloomLayer(capacity: layers[layers.count - 1].capacity * 2))
        }
        layers[layers.count - 1].insert(hash)
    }

    func contains(_ hash: UInt64) -> Bool {
        layers.contains { $0.contains(hash) }
    }
}

/// One Bloom filter: 10 bits and 7 probes an element (about 0.8% false positives when full).
struct BloomLayer: Sendable {
    let capacity: Int
    private(set) var count = 0
    private var words: [UInt64]
    private let bitCount: UInt64
    static let probes = 7

    init(capacity: Int) {
        self.capacity = capacity
        let bits = max(64, capacity * 10)
        words = [UInt64](repeating: 0, count: (bits + 63) / 64)
        bitCount = UInt64(words.count * 64)
    }

    var isFull: Bool { count >= capacity }

    mutating func insert(_ hash: UInt64) {
        let (first, step) = Self.probeStart(hash)
        var position = first
        for _ in 0..<Self.probes {
            let bit = position % bitCount
            words[Int(bit / 64)] |= 1 << (bit % 64)
            position &+= step
        }
        count += 1
    }

    func contains(_ hash: UInt64) -> Bool {
        let (first, step) = Self.probeStart(hash)
        var position = first
        for _ in 0..<Self.probes {
            let bit = position % bitCount
            guard words[Int(bit / 64)] & (1 << (bit % 64)) != 0 else { return false }
            position &+= step
        }
        return true
    }

    /// Double hashing (Kirsch and Mitzenmacher): the probes are `first + i * step`; the
    /// step is the hash mixed again (SplitMix64's finalizer), odd so it never sticks.
    private static func probeStart(_ hash: UInt64) -> (UInt64, UInt64) {
        var mixed = hash
        mixed = (mixed ^ (mixed >> 30)) &* 0xbf58_476d_1ce4_e5b9
        mixed = (mixed ^ (mixed >> 27)) &* 0x94d0_49bb_1331_11eb
        mixed ^= mixed >> 31
        return (hash, mixed | 1)
    }
}
