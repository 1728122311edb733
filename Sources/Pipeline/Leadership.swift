import FeedProtocol
import Foundation
import Logging
import Metrics
import PostgresStore
import Supervision
import Synchronization

/// Whether this node leads, and the fencing token its writer checks in each batch.
///
/// The role moves one way: standby → leader → lost. A lost node never leads again in the
/// same process (its in-memory state is stale by then); `vigil serve` exits and its
/// service manager starts a fresh standby.
public final class Leadership: Sendable {
    /// What this node is now.
    public enum Role: Sendable, Equatable {
        /// Not leading; `leader` is the current leader's feed address when one holds the lease.
        case standby(leader: String?)
        /// Holding the lease at `epoch`.
        case leader(epoch: Int64)
        /// Lost the lease (why): no more commits, no more acks.
        case lost(reason: String)
    }

    /// A batch refused because this node no longer holds the lease: nothing was committed.
    public struct Fenced: Error, CustomStringConvertible {
        /// Why.
        public var reason: String
        public var description: String {
            "batch not committed: \(reason); this node stopped leading, clients re-send what was not acked to the new leader"
        }
    }

    private struct State {
        var role: Role = .standby(leader: nil)
        /// When the leader must stop acking unless it renews (its own clock).
        var deadline: ContinuousClock.Instant?
        var becameLeaderAt: ContinuousClock.Instant?
    }

    /// This process's identity in the lease: node, pid and a nonce (a restarted process is a new holder).
    public let holder: String
    /// The settings.
    public let settings: HighAvailability
    /// Raised when this node first takes the lease (the pipeline's children wait for it).
    public let acquired = OneShotSignal()
    private let state = Mutex(State())
    private let logger: Logger
    private let leaderGauge = Gauge(label: "vigil_ha_leader")
    private let epochGauge = Gauge(label: "vigil_ha_epoch")
    private let fencedCounter = Counter(label: "vigil_ha_fenced_batches_total")

    /// A standby that has not yet looked at the lease.
    public init(settings: HighAvailability, logger: Logger = Logger(label: "vigil.ha")) {
        self.settings = settings
        self.holder = "\(settings.node)/\(ProcessInfo.processInfo.processIdentifier)/\(String(UInt32.random(in: 0...UInt32.max), radix: 16))"
        self.logger = logger
        leaderGauge.record(0)
    }

    /// The role now.
    public var role: Role { state.withLock { $0.role } }

    /// Leading, with time left on the lease by this node's clock.
    public var isLeader: Bool {
        state.withLock { s in
            guard case .leader = s.role, let deadline = s.deadline else { return false }
            return ContinuousClock.now < deadline
        }
    }

    /// Took the lease at `epoch` with a statement sent at `sent`.
    func becameLeader(epoch: Int64, sent: ContinuousClock.Instant) {
        let took = state.withLock { s -> Bool in
            guard case .standby = s.role else { return false }
            s.role = .leader(epoch: epoch)
            s.deadline = sent + settings.lease - settings.margin
            s.becameLeaderAt = .now
            return true
        }
        guard took else { return }
        leaderGauge.record(1)
        epochGauge.record(Int(truncatingIfNeeded: epoch))
        logger.notice(
            "took the leadership lease: this node now leads and starts the pipeline", metadata: ["epoch": "\(epoch)", "holder": "\(holder)"])
        acquired.raise()
    }

    /// Renewed with a statement sent at `sent`: the lease runs `lease` from then at the database.
    func renewed(sent: ContinuousClock.Instant) {
        state.withLock { s in
            guard case .leader = s.role else { return }
            s.deadline = sent + settings.lease - settings.margin
        }
    }

    /// A standby's view of who leads.
    func observe(_ row: LeaseRow) {
        state.withLock { s in
            guard case .standby = s.role else { return }
            s.role = .standby(leader: row.live && !row.feedAddress.isEmpty ? row.feedAddress : nil)
        }
    }

    /// Stops leading for good (idempotent): no batch commits after this, and `onLost` runs once.
    public func lose(_ reason: String) {
        let first = state.withLock { s -> Bool in
            if case .lost = s.role { return false }
            guard case .leader = s.role else { return false }
            s.role = .lost(reason: reason)
            return true
        }
        guard first else { return }
        leaderGauge.record(0)
        logger.critical(
            "lost the leadership lease: no more commits or acks from this node; unacked records go to the new leader",
            metadata: ["reason": "\(reason)", "holder": "\(holder)"])
        settings.onLost?(reason)
    }

    /// Called often: a leader whose deadline passed without a renewal stops leading.
    func checkDeadline() {
        let expired = state.withLock { s -> Bool in
            guard case .leader = s.role, let deadline = s.deadline else { return false }
            return ContinuousClock.now >= deadline
        }
        if expired {
            lose("could not renew the lease in PostgreSQL within \(settings.lease - settings.margin) (database unreachable or too slow)")
        }
    }

    /// The fencing check in a batch's transaction: throws `Fenced` (and stops leading)
    /// unless this node still holds the lease, by its own clock and by the database's.
    public func fence(on db: isolated PostgresConnection) throws {
        let token = state.withLock { s -> Int64? in
            guard case .leader(let epoch) = s.role, let deadline = s.deadline, ContinuousClock.now < deadline else { return nil }
            return epoch
        }
        guard let epoch = token else {
            fencedCounter.increment()
            checkDeadline()
            throw Fenced(reason: "this node does not hold the leadership lease (\(role))")
        }
        guard try db.holdsLease(holder: holder, epoch: epoch) else {
            fencedCounter.increment()
            lose("the fencing check found epoch \(epoch) no longer this node's (another node took the lease)")
            throw Fenced(reason: "the lease at epoch \(epoch) is no longer this node's")
        }
    }

    /// What a new feed connection is told instead of being served (nil: serve it).
    public func refusal() -> FeedRejection? {
        switch role {
        case .leader: nil
        case .standby(let leader): .notLeader(leader: leader)
        case .lost: .notLeader(leader: nil)
        }
    }

    /// Not ready unless leading, and why (for `/readyz`).
    var notReadyReason: String? {
        switch role {
        case .leader: nil
        case .standby(let leader): "standby: " + (leader.map { "the leader's feed is at \($0)" } ?? "no node leads just now")
        case .lost(let reason): "lost the leadership lease: \(reason)"
        }
    }

    /// The fields `/readyz` adds: `role`, and `leader` or `epoch`.
    var readyFields: [(String, String)] {
        switch role {
        case .leader(let epoch): [("role", "leader"), ("epoch", "\(epoch)"), ("leader", settings.feedAddress)]
        case .standby(let leader): [("role", "standby")] + (leader.map { [("leader", $0)] } ?? [])
        case .lost: [("role", "lost")]
        }
    }
}
