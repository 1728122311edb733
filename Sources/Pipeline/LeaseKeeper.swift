import Logging
import PostgresStore
import ServiceLifecycle
import Supervision

/// Takes and keeps the leadership lease for `vigil serve --ha`.
///
/// A standby tries to take the lease every `pollInterval` (it succeeds once the lease has
/// expired by the database's clock); the leader renews it every `renewInterval`. A
/// watchdog, apart from the database calls (a call to an unreachable server can block),
/// stops the leader at its own deadline, `margin` before the lease can end at the
/// database. Never throws: losing PostgreSQL is what it is there to handle. Run it
/// first in the service group so it stops last: the leader keeps renewing while the
/// pipeline drains, then releases the lease for an immediate takeover.
public final class LeaseKeeper: Service, Sendable {
    private let leadership: Leadership
    private let database: PostgresConfiguration
    private let logger: Logger
    private let stopping = OneShotSignal()

    /// Keeps the lease for `leadership` in `database`.
    public init(leadership: Leadership, database: PostgresConfiguration, logger: Logger = Logger(label: "vigil.ha")) {
        var database = database
        database.applicationName += "-lease"
        self.leadership = leadership
        self.database = database
        self.logger = logger
    }

    public func run() async throws {
        await withGracefulShutdownHandler {
            await withTaskGroup(of: Void.self) { group in
                group.addTask { await self.watchdog() }
                group.addTask { await self.keep() }
                await group.next()
                group.cancelAll()
            }
        } onGracefulShutdown: {
            self.stopping.raise()
        }
    }

    private func watchdog() async {
        while !Task.isCancelled, !stopping.isRaised {
            leadership.checkDeadline()
            try? await Task.sleep(for: .milliseconds(20))
        }
    }

    private func keep() async {
        let settings = leadership.settings
        let leaseMilliseconds = Int(settings.lease.components.seconds * 1000 + settings.lease.components.attoseconds / 1_000_000_000_000_000)
        var connection: PostgresConnection?
        var failures = 0
        while !Task.isCancelled, !stopping.isRaised {
            do {
                let db: PostgresConnection
                if let connection {
                    db = connection
                } else {
                    db = try await PostgresConnection.connect(database)
                    // A renewal (or a takeover) waits for a batch past its fencing check to
                    // commit; the lock is held only from that check to the COMMIT, so a wait
                    // as long as the lease is a stalled database, not a busy one.
                    _ = try await db.query("SELECT set_config('lock_timeout', \(leaseMilliseconds)::text || 'ms', false)")
                    connection = db
                }
                let sent = ContinuousClock.now
                switch leadership.role {
                case .standby:
                    if let epoch = try await db.acquireLease(
                        holder: leadership.holder, feedAddress: settings.feedAddress, leaseMilliseconds: leaseMilliseconds)
                    {
                        leadership.becameLeader(epoch: epoch, sent: sent)
                    } else if let row = try await db.readLease() {
                        leadership.observe(row)
                    }
                case .leader(let epoch):
                    if try await db.renewLease(holder: leadership.holder, epoch: epoch, leaseMilliseconds: leaseMilliseconds) {
                        leadership.renewed(sent: sent)
                    } else {
                        leadership.lose("another node took the lease after epoch \(epoch)")
                    }
                case .lost:
                    break
                }
                failures = 0
            } catch {
                failures += 1
                // Once per outage, then every tenth attempt: a dead database must not flood the log.
                if failures == 1 || failures % 10 == 0 {
                    logger.warning(
                        "cannot reach PostgreSQL for the leadership lease; retrying",
                        metadata: ["error": "\(error)", "attempts": "\(failures)", "role": "\(leadership.role)"])
                }
                if let broken = connection { await broken.close() }
                connection = nil
            }
            let pause = leadership.isLeader ? settings.renewInterval : settings.pollInterval
            try? await Task.sleep(for: pause)
        }
        // Stopping: a leader whose pipeline has drained hands the lease over at once.
        if case .leader(let epoch) = leadership.role, let connection {
            do {
                try await connection.releaseLease(holder: leadership.holder, epoch: epoch)
                logger.notice("released the leadership lease for an immediate takeover", metadata: ["epoch": "\(epoch)"])
            } catch {
                logger.warning("could not release the leadership lease; a standby takes over when it expires", metadata: ["error": "\(error)"])
            }
        }
        if let connection { await connection.close() }
    }
}
