import RuleLanguage
import Synchronization
import VigilCore

/// Window state for windows keyed by something other than the account (card, device,
/// ip, merchant, ...), shared by all detection workers.
///
/// Workers own accounts, but one card or device can appear on many accounts, so these
/// windows cannot live in one worker. Each window is split into shards by key hash;
/// a shard is a `WindowState` behind its own lock, so one key's state has exactly one
/// owner at a time, updates to one key are atomic, and workers touching different keys
/// rarely contend.
public final class SharedWindows: Sendable {
    private let shards: [[Shard]]  // by window, then shard
    /// The windows held here.
    public let specs: [WindowSpec]

    /// Creates empty state for `specs`, each split in `shardCount` shards.
    public init(specs: [WindowSpec], shardCount: Int = 64, limits: WindowState.Limits = .init()) {
        self.specs = specs
        self.shards = specs.map { spec in
            (0..<max(1, shardCount)).map { _ in Shard(WindowState(specs: [spec], limits: limits)) }
        }
    }

    private init(specs: [WindowSpec], shards: [[Shard]]) {
        self.specs = specs
        self.shards = shards
    }

    /// State for a reloaded ruleset's shared windows: a window whose name and
    /// definition are unchanged keeps its state (the same shards, so nothing counted is
    /// lost); a new or changed one starts empty. Returns the new state and the specs
    /// that start empty (to be rebuilt from stored transactions).
    public func migrated(to newSpecs: [WindowSpec], shardCount: Int = 64) -> (SharedWindows, fresh: [WindowSpec]) {
        var fresh: [WindowSpec] = []
        let newShards = newSpecs.map { spec -> [Shard] in
            if let i = specs.firstIndex(where: { spec.keepsState(of: $0) }) {
                return shards[i]
            }
            fresh.append(spec)
            return (0..<max(1, shardCount)).map { _ in Shard(WindowState(specs: [spec])) }
        }
        return (SharedWindows(specs: newSpecs, shards: newShards), fresh)
    }

    /// Counts the record only in the windows named in `only` (rebuilding fresh windows).
    public func observe(_ record: inout EvaluationRecord, lists: ListSnapshot, only: Set<String>) {
        for (i, spec) in specs.enumerated() where only.contains(spec.name) {
            let shard: Int
            if case .string(let key) = record.fields[spec.key.rawValue] {
                shard = Int(Self.hash(key) % UInt64(shards[i].count))
            } else {
                shard = 0
            }
            shards[i][shard].state.withLock { state in state.observe(&record, lists: lists) }
        }
    }

    /// Counts the record in every shared window and writes their values into it.
    public func observe(_ record: inout EvaluationRecord, lists: ListSnapshot) {
        for (i, spec) in specs.enumerated() {
            let shard: Int
            if case .string(let key) = record.fields[spec.key.rawValue] {
                shard = Int(Self.hash(key) % UInt64(shards[i].count))
            } else {
                shard = 0  // absent key: the window writes `.absent` without state
            }
            shards[i][shard].state.withLock { state in state.observe(&record, lists: lists) }
        }
    }

    /// Drops keys with no live event.
    public func evictIdle(now: VigilCore.Timestamp) {
        for window in shards {
            for shard in window { shard.state.withLock { $0.evictIdle(now: now) } }
        }
    }

    /// A copy of every shard's state, for comparisons in tests.
    public func shardStates() -> [WindowState] {
        shards.flatMap { window in window.map { shard in shard.state.withLock { $0 } } }
    }

    /// Keys held over all shared windows.
    public var keyCount: Int {
        shards.reduce(0) { total, window in total + window.reduce(0) { $0 + $1.state.withLock { $0.keyCount } } }
    }

    /// FNV-1a 64 of the UTF-8 bytes, stable across runs and machines.
    ///
    /// Over the string's contiguous UTF-8 (`withUTF8` copies only a bridged string):
    /// walking the `utf8` view byte by byte cost about 300 instructions for a 13-byte id,
    /// four times this.
    static func hash(_ text: String) -> UInt64 {
        var text = text
        return text.withUTF8 { hash(UnsafeBufferPointer(start: $0.baseAddress, count: $0.count)) }
    }

    /// FNV-1a 64 of `bytes` (what ``hash(_:)-swift.type.method`` computes over a string's UTF-8).
    static func hash(_ bytes: UnsafeBufferPointer<UInt8>) -> UInt64 {
        var value: UInt64 = 0xcbf2_9ce4_8422_2325
        for byte in bytes {
            value ^= UInt64(byte)
            value &*= 0x0000_0100_0000_01b3
        }
        return value
    }
}

/// One lock-protected piece of a shared window (a class, since `Mutex` cannot be copied
/// into an array).
final class Shard: Sendable {
    let state: Mutex<WindowState>
    init(_ state: WindowState) { self.state = Mutex(state) }
}
