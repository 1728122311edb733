import Detection
import Logging
import Metrics
import PostgresStore
import ServiceLifecycle
import Synchronization
import VigilCore

/// Account profiles changed by committed batches and not yet checkpointed.
public final class DirtyProfiles: Sendable {
    struct Entry {
        var profile: AccountProfile
        /// `received_at` of the first batch that changed it since its last checkpoint:
        /// every transaction its row does not include yet was received at or after this.
        var since: Timestamp
    }

    /// Profiles taken for one checkpoint.
    struct Checkpoint {
        var profiles: [String: AccountProfile]
        var sinces: [String: Timestamp]
        /// Every transaction of these accounts received at or before this is counted in them.
        var through: Timestamp
        /// Where the replay at start may begin once these are written: every account with
        /// a transaction received at or before it has a row that includes it.
        var replayFrom: Timestamp
    }

    private struct State {
        var entries: [String: Entry] = [:]
        /// Each waiting account once, in order of `since` (first changed first), from
        /// `head` on: a tick takes from the front without looking at the rest.
        var order: [(account: String, since: Timestamp)] = []
        var head = 0
        /// `received_at` of the newest batch whose profiles are in `entries`.
        var through: Timestamp?

        mutating func popFront() -> (account: String, since: Timestamp)? {
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

    /// Creates an empty set.
    public init() {}

    /// Adds the profiles a committed batch changed, in the batch's order (later entries
    /// for an account, and later batches, replace earlier ones).
    func add(_ profiles: [(account: String, profile: AccountProfile)], through: Timestamp) {
        guard !profiles.isEmpty else { return }
        state.withLock { s in
            for (account, profile) in profiles {
                if s.entries[account] != nil {
                    s.entries[account]!.profile = profile
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
    func addReplayed(_ profiles: [(account: String, profile: AccountProfile, since: Timestamp)], through: Timestamp) {
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

/// Writes changed account profiles, each about `interval` (at most about twice that)
/// after it changed, a few at a time and off the writer's path.
///
/// Rewriting a wide profile row with every batch cost more than storing the batch, and
/// writing them all every `interval` made a burst that stalled the batches committing
/// beside it. So every tick (a 300th of `interval`) the checkpointer writes, on a connection of its own, some
/// of the profiles first changed `interval` ago or more (each account at most once per
/// `interval`; at most a tick's share of all waiting ones), marks each row with the newest batch it includes, and moves the marker
/// from which the start-up replay reads. At start the profiles are loaded and the
/// transactions stored after the marker that a row does not include yet are replayed
/// into it, so a crash between checkpoints loses nothing. Runs before the writer starts
/// and stops after it, writing everything left.
public final class ProfileCheckpointer: Service, Sendable {
    private let dirty: DirtyProfiles
    private let database: PostgresConfiguration
    private let interval: Duration
    private let tick: Duration
    private let logger: Logger
    private let written = Counter(label: "vigil_profile_checkpoint_rows_total")
    private let timer = Timer(label: "vigil_profile_checkpoint_seconds")
    /// Most profiles written in one checkpoint transaction.
    static let chunk = 20_000
    /// Fewest profiles written a tick when some are due.
    static let minimumPerTick = 200

    /// Creates the checkpointer.
    public init(
        dirty: DirtyProfiles, database: PostgresConfiguration, interval: Duration = .seconds(30),
        logger: Logger = Logger(label: "vigil.profiles")
    ) {
        self.dirty = dirty
        self.database = database
        self.interval = interval
        // Small and often: each write competes with the batches for the same cores and WAL.
        self.tick = min(max(interval / 300, .milliseconds(50)), .seconds(1))
        self.logger = logger
    }

    public func run() async throws {
        try await PostgresConnection.withConnection(database) { db in
            let intervalMicros = interval.components.seconds * 1_000_000 + interval.components.attoseconds / 1_000_000_000_000
            while !Task.isShuttingDownGracefully {
                do {
                    try await cancelWhenGracefulShutdown { try await Task.sleep(for: self.tick) }
                } catch is CancellationError {
                    if !Task.isShuttingDownGracefully { throw CancellationError() }
                }
                // At most a period's share of the waiting profiles a tick: after a burst of
                // traffic most accounts come due in the same second, and writing them all at
                // once stalled the batches committing beside it for over a second.
                let cutoff = Timestamp.now().adding(microseconds: -intervalMicros)
                let share = dirty.count / max(1, Int(interval / tick)) + 1
                if let checkpoint = dirty.take(changedBy: cutoff, limit: min(Self.chunk, max(Self.minimumPerTick, share))) {
                    try await write(checkpoint, on: db)
                }
            }
            // The writer has stopped: everything left.
            while let checkpoint = dirty.take(changedBy: nil, limit: Self.chunk) {
                try await write(checkpoint, on: db)
            }
        }
    }

    private func write(_ checkpoint: DirtyProfiles.Checkpoint, on db: PostgresConnection) async throws {
        let started = ContinuousClock.now
        let profiles = checkpoint.profiles
        let through = checkpoint.through
        let replayFrom = checkpoint.replayFrom
        do {
            try await db.transaction { db in
                try DetectionStore.saveProfiles(profiles, through: through, on: db)
                try db.execute("UPDATE profile_checkpoints SET through = greatest(through, \(replayFrom)) WHERE id = 1")
            }
        } catch {
            dirty.restore(checkpoint)
            throw error
        }
        written.increment(by: profiles.count)
        timer.record(duration: ContinuousClock.now - started)
        logger.debug("profiles checkpointed", metadata: ["profiles": "\(profiles.count)", "replay_from": "\(replayFrom)"])
    }
}
