import Enrichment
import Logging
import Metrics
import PostgresStore
import ServiceLifecycle
import Synchronization

/// Account profiles changed by committed batches and not yet checkpointed.
public final class DirtyProfiles: Sendable {
    private struct State {
        var profiles: [String: AccountProfile] = [:]
        /// `received_at` (text) of the newest batch whose profiles are in `profiles`.
        var through: String?
    }
    private let state = Mutex(State())

    /// Creates an empty set.
    public init() {}

    /// Adds the profiles a committed batch changed, in the batch's order (later entries
    /// for an account, and later batches, replace earlier ones).
    func add(_ profiles: [(account: String, profile: AccountProfile)], through: String) {
        guard !profiles.isEmpty else { return }
        state.withLock { s in
            for (account, profile) in profiles { s.profiles[account] = profile }
            s.through = through
        }
    }

    /// Takes everything for a checkpoint.
    func take() -> (profiles: [String: AccountProfile], through: String)? {
        state.withLock { s in
            guard let through = s.through, !s.profiles.isEmpty else { return nil }
            defer { s = State() }
            return (s.profiles, through)
        }
    }

    /// Puts back a checkpoint that failed; entries added meanwhile are newer and win.
    func restore(_ profiles: [String: AccountProfile], through: String) {
        state.withLock { s in
            s.profiles.merge(profiles) { newer, _ in newer }
            if s.through == nil { s.through = through }
        }
    }

    /// Profiles waiting.
    public var count: Int { state.withLock { $0.profiles.count } }
}

/// Writes changed account profiles every `interval`, off the writer's path.
///
/// Rewriting a wide profile row with every batch cost more than storing the batch, so
/// profiles are written here, on a connection of their own, together with a marker
/// (`profile_checkpoints.through`) naming the last batch they include. At start the
/// profiles are loaded and the transactions stored after the marker are replayed into
/// them, so a crash between checkpoints loses nothing. Runs before the writer starts
/// and stops after it, with a last checkpoint.
public final class ProfileCheckpointer: Service, Sendable {
    private let dirty: DirtyProfiles
    private let database: PostgresConfiguration
    private let interval: Duration
    private let logger: Logger
    private let written = Counter(label: "vigil_profile_checkpoint_rows_total")
    private let timer = Timer(label: "vigil_profile_checkpoint_seconds")

    /// Creates the checkpointer.
    public init(dirty: DirtyProfiles, database: PostgresConfiguration, interval: Duration = .seconds(5),
                logger: Logger = Logger(label: "vigil.profiles")) {
        self.dirty = dirty
        self.database = database
        self.interval = interval
        self.logger = logger
    }

    public func run() async throws {
        let db = try await PostgresConnection.connect(database)
        defer { Task { await db.close() } }
        while !Task.isShuttingDownGracefully {
            do {
                try await cancelWhenGracefulShutdown { try await Task.sleep(for: self.interval) }
            } catch is CancellationError {
                if !Task.isShuttingDownGracefully { throw CancellationError() }
            }
            try await checkpoint(db)
        }
        try await checkpoint(db)  // the writer has stopped: the last one
    }

    private func checkpoint(_ db: PostgresConnection) async throws {
        guard let (profiles, through) = dirty.take() else { return }
        let started = ContinuousClock.now
        do {
            try await db.transaction { db in
                try DetectionStore.saveProfiles(profiles, on: db)
                try db.execute("UPDATE profile_checkpoints SET through = greatest(through, \(through)::timestamptz) WHERE id = 1")
            }
        } catch {
            dirty.restore(profiles, through: through)
            throw error
        }
        written.increment(by: profiles.count)
        timer.record(duration: ContinuousClock.now - started)
        logger.debug("profiles checkpointed", metadata: ["profiles": "\(profiles.count)", "through": "\(through)"])
    }
}
