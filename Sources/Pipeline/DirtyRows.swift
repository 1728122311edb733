import Detection
import Synchronization
import VigilCore

/// Account profiles changed by committed batches and not yet checkpointed.
public typealias DirtyProfiles = DirtyRows<String, AccountProfile>

/// Card, device and merchant histories changed by committed batches and not yet checkpointed.
public typealias DirtyEntities = DirtyRows<EntityKey, EntityStats>

/// Rows (account profiles, entity histories) changed by committed batches and not yet
/// checkpointed, each with the `received_at` of the first batch that changed it.
public final class DirtyRows<Key: Hashable & Sendable, Value: Sendable>: Sendable {
    struct Entry {
        var profile: Value
        /// `received_at` of the first batch that changed it since its last checkpoint:
        /// every transaction its row does not include yet was received at or after this.
        var since: Timestamp
    }

    /// Profiles taken for one checkpoint.
    struct Checkpoint {
        var profiles: [Key: Value]
        var sinces: [Key: Timestamp]
        /// Every transaction of these accounts received at or before this is counted in them.
        var through: Timestamp
        /// Where the replay at start may begin once these are written: every account with
        /// a transaction received at or before it has a row that includes it.
        var replayFrom: Timestamp
    }

    private struct State {
        var entries: [Key: Entry] = [:]
        /// Each waiting account once, in order of `since` (first changed first), from
        /// `head` on: a tick takes from the front without looking at the rest.
        var order: [(account: Key, since: Timestamp)] = []
        var head = 0
        /// `received_at` of the newest batch whose profiles are in `entries`.
        var through: Timestamp?

        mutating func popFront() -> (account: Key, since: Timestamp)? {
            guard head < order.count else { return nil }
            defer {
                head += 1
                if head > 4096 && head * 2 > order.count {
                    order.removeFirst(head)
                    head = 0
                }
            }
            return order[head]
        }

        /// Rebuilds `order` from `entries` (after out-of-order insertions; rare).
        mutating func reorder() {
            order = entries.map { ($0.key, $0.value.since) }.sorted { $0.since < $1.since }
            head = 0
        }
    }
    private let state = Mutex(State())
    /// Whether a value added later replaces the one waiting (histories shared by workers
    /// can commit out of order: the one that counts more wins).
    private let replaces: @Sendable (_ new: Value, _ waiting: Value) -> Bool

    /// Creates an empty set.
    public init(replaces: @escaping @Sendable (_ new: Value, _ waiting: Value) -> Bool = { _, _ in true }) {
        self.replaces = replaces
    }

    /// Adds the profiles a committed batch changed, in the batch's order (later entries
    /// for an account, and later batches, replace earlier ones).
    func add(_ profiles: [(account: Key, profile: Value)], through: Timestamp) {
        guard !profiles.isEmpty else { return }
        state.withLock { s in
            for (account, profile) in profiles {
                if let waiting = s.entries[account] {
                    if replaces(profile, waiting.profile) { s.entries[account]?.profile = profile }
                } else {
                    s.entries[account] = Entry(profile: profile, since: through)
                    s.order.append((account, through))  // batches come in time order
                }
            }
            s.through = through
        }
    }

    /// Adds profiles rebuilt at start by replaying stored transactions their rows do not
    /// include: `since` is the first such transaction's `received_at`, `through` the last.
    func addReplayed(_ profiles: [(account: Key, profile: Value, since: Timestamp)], through: Timestamp) {
        guard !profiles.isEmpty else { return }
        state.withLock { s in
            for (account, profile, since) in profiles {
                s.entries[account] = Entry(profile: profile, since: min(since, s.entries[account]?.since ?? since))
            }
            s.reorder()
            s.through = max(s.through ?? through, through)
        }
    }

    /// Takes at most `limit` profiles first changed at or before `changedBy` (all of them
    /// when nil), oldest first.
    func take(changedBy cutoff: Timestamp?, limit: Int) -> Checkpoint? {
        state.withLock { s in
            guard let through = s.through, !s.entries.isEmpty else { return nil }
            var checkpoint = Checkpoint(profiles: [:], sinces: [:], through: through, replayFrom: through)
            while checkpoint.profiles.count < limit, s.head < s.order.count,
                cutoff.map({ s.order[s.head].since <= $0 }) ?? true, let (account, since) = s.popFront()
            {
                guard let entry = s.entries.removeValue(forKey: account) else { continue }
                checkpoint.profiles[account] = entry.profile
                checkpoint.sinces[account] = since
            }
            guard !checkpoint.profiles.isEmpty else { return nil }
            if s.head < s.order.count {
                checkpoint.replayFrom = s.order[s.head].since.adding(microseconds: -1)
            }
            return checkpoint
        }
    }

    /// Puts back a checkpoint that failed; entries added meanwhile are newer and win.
    func restore(_ checkpoint: Checkpoint) {
        state.withLock { s in
            for (account, profile) in checkpoint.profiles {
                let since = checkpoint.sinces[account] ?? checkpoint.through
                if let newer = s.entries[account] {
                    s.entries[account] = Entry(profile: newer.profile, since: min(newer.since, since))
                } else {
                    s.entries[account] = Entry(profile: profile, since: since)
                }
            }
            s.reorder()
            if s.through == nil { s.through = checkpoint.through }
        }
    }

    /// Profiles waiting.
    public var count: Int { state.withLock { $0.entries.count } }
}

extension DirtyRows where Key == EntityKey, Value == EntityStats {
    /// Histories waiting for a checkpoint: workers share an entity and their batches can
    /// commit out of order, so a history that has counted more replaces one that counted less.
    public static func histories() -> DirtyEntities {
        DirtyEntities(replaces: { new, waiting in new.count >= waiting.count })
    }
}
