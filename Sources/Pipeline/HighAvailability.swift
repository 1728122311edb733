import Foundation

/// Active/standby settings of `vigil serve --ha` (see docs/operations.md, "High availability").
///
/// Every node runs the feed listener and the ops endpoint; only the node holding the
/// lease in PostgreSQL runs the pipeline (state, detection, writer, checkpoints, webhook
/// delivery). The others refuse feed connections with `not_leader` and poll the lease.
public struct HighAvailability: Sendable {
    /// How long a lease runs after each renewal (3 s). A standby takes over at most this
    /// long (plus one poll) after the leader's last renewal.
    public var lease: Duration
    /// How often the leader renews (a third of the lease) and a standby polls (a thirtieth,
    /// at least 50 ms: one small UPDATE, and a takeover starts at most this late).
    public var renewInterval: Duration
    public var pollInterval: Duration
    /// How long before the lease ends, by its own clock, the leader stops acking when it
    /// could not renew (a quarter of the lease, at most 500 ms): the margin that keeps a
    /// cut-off leader from acking while another node may already lead.
    public var margin: Duration
    /// This node's name in the lease and the logs (the host name by default).
    public var node: String
    /// Where clients reach this node's feed (`host:port`), told to them by standbys.
    public var feedAddress: String
    /// Called once when this node loses the lease; `vigil serve` exits (status 75) so a
    /// service manager starts it again as a standby. Nil: stay up, refusing and not ready.
    public var onLost: (@Sendable (String) -> Void)?

    /// Settings for a lease of `lease`; the intervals and margin follow from it.
    public init(lease: Duration = .seconds(3), node: String = ProcessInfo.processInfo.hostName, feedAddress: String) {
        self.lease = lease
        self.renewInterval = lease / 3
        self.pollInterval = max(lease / 30, .milliseconds(50))
        self.margin = min(lease / 4, .milliseconds(500))
        self.node = node
        self.feedAddress = feedAddress
    }
}
