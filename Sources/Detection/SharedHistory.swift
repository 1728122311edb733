import Synchronization
import VigilCore

/// Card, device and merchant histories, shared by all detection workers.
///
/// Workers own accounts, but one card, device or merchant appears on many accounts, so,
/// like ``SharedWindows``, each kind is split into shards by key hash, each an
/// ``EntityTable`` behind its own lock: one key has one owner at a time, its read and
/// update are one atomic step, and workers touching different keys rarely contend.
///
/// Memory is bounded: each kind holds at most its ``Limits`` entries (split evenly over
/// the shards), the least recently seen evicted first. An evicted entity that comes back
/// starts a new history, as a first-seen one.
public final class SharedHistory: Sendable {
    /// Most entries kept per kind (see docs/detection.md for the bytes per entry).
    public struct Limits: Sendable, Hashable {
        public var cards: Int
        public var devices: Int
        public var merchants: Int

        /// Defaults sized for a portfolio of a few million cards.
        public init(cards: Int = 4_000_000, devices: Int = 2_000_000, merchants: Int = 1_000_000) {
            self.cards = cards
            self.devices = devices
            self.merchants = merchants
        }

        func capacity(_ kind: EntityKind) -> Int {
            switch kind {
            case .card: cards
            case .device: devices
            case .merchant: merchants
            }
        }
    }

    private let shards: [[EntityShard]]  // by kind (EntityKind.allCases order), then shard
    /// The caps in force.
    public let limits: Limits

    /// Empty histories, each kind split in `shardCount` shards.
    public init(limits: Limits = Limits(), shardCount: Int = 64) {
        self.limits = limits
        let n = max(1, shardCount)
        shards = EntityKind.allCases.map { kind in
            (0..<n).map { _ in EntityShard(EntityTable(capacity: (limits.capacity(kind) + n - 1) / n)) }
        }
    }

    private func shard(_ key: EntityKey) -> EntityShard {
        let byKind = shards[Self.index(key.kind)]
        return byKind[Int(SharedWindows.hash(key.id) % UInt64(byKind.count))]
    }

    private static func index(_ kind: EntityKind) -> Int {
        switch kind {
        case .card: 0
        case .device: 1
        case .merchant: 2
        }
    }

    /// The history of `key` before this transaction, and after it when `update` (a late
    /// record reads the history and leaves it as it was).
    public func observe(_ key: EntityKey, time: Timestamp, amountBase: Double?, update: Bool) -> (before: EntityStats?, after: EntityStats?) {
        shard(key).table.withLock { $0.observe(key.id, time: time, amountBase: amountBase, update: update) }
    }

    /// The history of `key` as it stands.
    public func stats(_ key: EntityKey) -> EntityStats? {
        shard(key).table.withLock { $0.stats(key.id) }
    }

    /// Counts one reversed transaction of `key` (the reversal writer, after its commit).
    public func addReversal(_ key: EntityKey) {
        shard(key).table.withLock { $0.addReversal(key.id) }
    }

    /// Sets the count of reversed transactions of `key` (at start and at a takeover,
    /// from the stored reversals: the same numbers the live counting reached).
    public func setReversals(_ key: EntityKey, _ count: Int64) {
        shard(key).table.withLock { $0.setReversals(key.id, count) }
    }

    /// Puts a stored history back (at start).
    public func load(_ key: EntityKey, _ stats: EntityStats) {
        shard(key).table.withLock { $0.load(key.id, stats) }
    }

    /// Forgets every history (a state load that failed part-way starts again from nothing).
    public func removeAll() {
        for kind in shards {
            for shard in kind { shard.table.withLock { $0 = EntityTable(capacity: $0.capacity) } }
        }
    }

    /// Entries held per kind.
    public func count(_ kind: EntityKind) -> Int {
        shards[Self.index(kind)].reduce(0) { total, shard in total + shard.table.withLock { $0.count } }
    }

    /// Bytes held per kind, counted (see ``EntityTable/countedBytes``).
    public func countedBytes(_ kind: EntityKind) -> Int {
        shards[Self.index(kind)].reduce(0) { total, shard in total + shard.table.withLock { $0.countedBytes } }
    }

    /// Entries evicted so far per kind.
    public func evicted(_ kind: EntityKind) -> Int {
        shards[Self.index(kind)].reduce(0) { total, shard in total + shard.table.withLock { $0.evicted } }
    }

    /// Every history held, for comparisons in tests and for a full checkpoint.
    public func all() -> [EntityKey: EntityStats] {
        var result: [EntityKey: EntityStats] = [:]
        for kind in EntityKind.allCases {
            for shard in shards[Self.index(kind)] {
                shard.table.withLock { table in
                    for (id, slot) in table.slots { result[EntityKey(kind, id)] = slot.stats }
                }
            }
        }
        return result
    }
}

/// One lock-protected shard of an entity kind (a class: `Mutex` cannot be copied into an array).
final class EntityShard: Sendable {
    let table: Mutex<EntityTable>
    init(_ table: EntityTable) { self.table = Mutex(table) }
}
