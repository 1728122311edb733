import VigilCore

/// A bounded table of entity histories: at most `capacity` entries, the least recently
/// seen evicted first.
///
/// "Recently seen" is the order of observation (a counter bumped on every update), not
/// event time, so an out-of-order record still keeps its entity alive. When the table
/// grows past its capacity it drops the oldest eighth in one pass (a sort of the
/// counters), so eviction costs O(log n) per insertion amortised and nothing per hit.
public struct EntityTable: Sendable {
    struct Slot: Sendable {
        var stats: EntityStats
        var touched: UInt64
    }

    private(set) var slots: [String: Slot] = [:]
    private var clock: UInt64 = 0
    /// Most entries kept.
    public let capacity: Int
    /// Entries dropped to stay within `capacity` so far.
    public private(set) var evicted = 0

    /// An empty table holding at most `capacity` entries (at least 8).
    public init(capacity: Int) {
        self.capacity = max(8, capacity)
    }

    /// The history of `id` (nil when never seen, or evicted).
    public func stats(_ id: String) -> EntityStats? { slots[id]?.stats }

    /// Entries held.
    public var count: Int { slots.count }

    /// Bytes the table holds, counted: every bucket of the hash table (key and slot; the
    /// table keeps at most 3/4 of its buckets full) and the heap text of any id too long
    /// to be stored inline in its `String` (over 15 UTF-8 bytes).
    public var countedBytes: Int {
        let buckets = Int((Double(slots.capacity) / 0.75).rounded(.up))
        let perBucket = MemoryLayout<String>.stride + MemoryLayout<Slot>.stride
        let heap = slots.keys.reduce(0) { $0 + ($1.utf8.count > 15 ? 32 + $1.utf8.count : 0) }
        return buckets * perBucket + buckets / 8 + heap
    }

    /// Returns the history of `id` before this transaction and, when `update`, counts the
    /// transaction in it and returns the history after it too.
    public mutating func observe(
        _ id: String, time: Timestamp, amountBase: Double?, update: Bool
    ) -> (before: EntityStats?, after: EntityStats?) {
        guard update else { return (slots[id]?.stats, nil) }
        clock &+= 1
        let tick = clock
        var before: EntityStats?
        var after = EntityStats()
        if let index = slots.index(forKey: id) {
            before = slots.values[index].stats
            slots.values[index].stats.observe(amountBase: amountBase, time: time)
            slots.values[index].touched = tick
            after = slots.values[index].stats
        } else {
            after.observe(amountBase: amountBase, time: time)
            slots[id] = Slot(stats: after, touched: tick)
            if slots.count > capacity { evictOldest() }
        }
        return (before, after)
    }

    /// Counts one reversed transaction of `id` (a history it does not hold yet is created,
    /// with no transaction counted, so the count does not depend on what was evicted or
    /// late). Does not change what was seen recently: a reversal is not a transaction.
    public mutating func addReversal(_ id: String) {
        if let index = slots.index(forKey: id) {
            slots.values[index].stats.reversals += 1
        } else {
            setReversals(id, 1)
        }
    }

    /// Sets the count of reversed transactions of `id` (at start, from the stored reversals).
    public mutating func setReversals(_ id: String, _ count: Int64) {
        if let index = slots.index(forKey: id) {
            slots.values[index].stats.reversals = count
        } else {
            var stats = EntityStats()
            stats.reversals = count
            clock &+= 1
            slots[id] = Slot(stats: stats, touched: clock)
            if slots.count > capacity { evictOldest() }
        }
    }

    /// Puts a stored history back (at start); loaded entries count as seen in load order.
    public mutating func load(_ id: String, _ stats: EntityStats) {
        clock &+= 1
        slots[id] = Slot(stats: stats, touched: clock)
        if slots.count > capacity { evictOldest() }
    }

    private mutating func evictOldest() {
        let keep = capacity - capacity / 8
        let drop = slots.count - keep
        guard drop > 0 else { return }
        let cutoff = slots.values.map(\.touched).sorted()[drop - 1]
        let before = slots.count
        slots = slots.filter { $0.value.touched > cutoff }
        evicted += before - slots.count
    }
}
