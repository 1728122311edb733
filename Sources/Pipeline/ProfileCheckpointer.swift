import Detection
import Logging
import Metrics
import PostgresStore
import ServiceLifecycle
import Synchronization
import VigilCore

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
    /// Card, device and merchant histories, checkpointed on the same schedule.
    private let entities: DirtyEntities?
    private let database: PostgresConfiguration
    private let interval: Duration
    private let tick: Duration
    private let logger: Logger
    /// With `--ha`: a node that lost the lease writes no checkpoint over the new leader's.
    private let leadership: Leadership?
    private let written = Counter(label: "vigil_profile_checkpoint_rows_total")
    private let timer = Timer(label: "vigil_profile_checkpoint_seconds")
    /// Most profiles written in one checkpoint transaction.
    static let chunk = 20_000
    /// Fewest profiles written a tick when some are due.
    static let minimumPerTick = 200

    /// Creates the checkpointer.
    public init(
        dirty: DirtyProfiles, entities: DirtyEntities? = nil, database: PostgresConfiguration, interval: Duration = .seconds(30),
        leadership: Leadership? = nil, logger: Logger = Logger(label: "vigil.profiles")
    ) {
        self.leadership = leadership
        self.dirty = dirty
        self.entities = entities
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
                if let entities {
                    let share = entities.count / max(1, Int(interval / tick)) + 1
                    if let checkpoint = entities.take(changedBy: cutoff, limit: min(Self.chunk, max(Self.minimumPerTick, share))) {
                        try await writeEntities(checkpoint, to: entities, on: db)
                    }
                }
            }
            // The writer has stopped: everything left.
            while let checkpoint = dirty.take(changedBy: nil, limit: Self.chunk) {
                try await write(checkpoint, on: db)
            }
            while let entities, let checkpoint = entities.take(changedBy: nil, limit: Self.chunk) {
                try await writeEntities(checkpoint, to: entities, on: db)
            }
        }
    }

    private func write(_ checkpoint: DirtyProfiles.Checkpoint, on db: PostgresConnection) async throws {
        let started = ContinuousClock.now
        let profiles = checkpoint.profiles
        let through = checkpoint.through
        let replayFrom = checkpoint.replayFrom
        let leadership = self.leadership
        do {
            try await db.transaction { db in
                try DetectionStore.saveProfiles(profiles, through: through, on: db)
                try db.execute("UPDATE profile_checkpoints SET through = greatest(through, \(replayFrom)) WHERE id = 1")
                // Last: the lease row's lock is held only until the COMMIT.
                try leadership?.fence(on: db)
            }
        } catch {
            dirty.restore(checkpoint)
            throw error
        }
        written.increment(by: profiles.count)
        timer.record(duration: ContinuousClock.now - started)
        logger.debug("profiles checkpointed", metadata: ["profiles": "\(profiles.count)", "replay_from": "\(replayFrom)"])
    }

    private func writeEntities(_ checkpoint: DirtyEntities.Checkpoint, to dirty: DirtyEntities, on db: PostgresConnection) async throws {
        let rows = checkpoint.profiles
        let through = checkpoint.through
        let replayFrom = checkpoint.replayFrom
        let leadership = self.leadership
        do {
            try await db.transaction { db in
                try DetectionStore.saveEntities(rows, through: through, on: db)
                try db.execute("UPDATE entity_checkpoints SET through = greatest(through, \(replayFrom)) WHERE id = 1")
                // Last: the lease row's lock is held only until the COMMIT.
                try leadership?.fence(on: db)
            }
        } catch {
            dirty.restore(checkpoint)
            throw error
        }
        written.increment(by: rows.count)
        logger.debug("entity histories checkpointed", metadata: ["rows": "\(rows.count)", "replay_from": "\(replayFrom)"])
    }
}
