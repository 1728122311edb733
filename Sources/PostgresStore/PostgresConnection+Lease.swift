/// The leadership lease row (`leader_lease`, migration 0019) as the HA nodes see it.
public struct LeaseRow: Sendable, Hashable {
    /// The leader's identity (`node/pid/nonce`), empty before anyone led.
    public var holder: String
    /// The takeover count: the fencing token with `holder`.
    public var epoch: Int64
    /// Whether the lease was still running by the database's clock when read.
    public var live: Bool
    /// Where the leader's feed listens, `host:port`.
    public var feedAddress: String

    /// Creates a row value.
    public init(holder: String, epoch: Int64, live: Bool, feedAddress: String) {
        self.holder = holder
        self.epoch = epoch
        self.live = live
        self.feedAddress = feedAddress
    }
}

extension PostgresConnection {
    /// Takes the lease for `holder` if it has expired (by the database's clock); returns
    /// the new epoch, or nil when another node's lease is still running. Waits for any
    /// batch transaction of the old leader that holds the row to commit first (its
    /// `FOR SHARE` lock), so the old leader's last commit happens before the takeover.
    public func acquireLease(holder: String, feedAddress: String, leaseMilliseconds: Int) throws -> Int64? {
        let rows = try query(
            """
            UPDATE leader_lease
               SET holder = \(holder), epoch = epoch + 1, feed_address = \(feedAddress),
                   expires_at = clock_timestamp() + \(leaseMilliseconds)::bigint * interval '1 millisecond',
                   acquired_at = clock_timestamp()
             WHERE id = 1 AND expires_at < clock_timestamp()
            RETURNING epoch
            """)
        return try rows.first?.decode(0, as: Int64.self)
    }

    /// Extends the lease of `holder` at `epoch`; false when that lease is no longer its own
    /// (another node took it: stop at once).
    public func renewLease(holder: String, epoch: Int64, leaseMilliseconds: Int) throws -> Bool {
        try execute(
            """
            UPDATE leader_lease SET expires_at = clock_timestamp() + \(leaseMilliseconds)::bigint * interval '1 millisecond'
             WHERE id = 1 AND holder = \(holder) AND epoch = \(epoch)
            """) == 1
    }

    /// Ends the lease of `holder` at `epoch` at once (a graceful shutdown), so a standby
    /// need not wait for it to expire.
    public func releaseLease(holder: String, epoch: Int64) throws {
        _ = try execute("UPDATE leader_lease SET expires_at = '-infinity' WHERE id = 1 AND holder = \(holder) AND epoch = \(epoch)")
    }

    /// The lease as it stands.
    public func readLease() throws -> LeaseRow? {
        let rows = try query("SELECT holder, epoch, expires_at > clock_timestamp(), feed_address FROM leader_lease WHERE id = 1")
        guard let row = rows.first else { return nil }
        return LeaseRow(
            holder: try row.decode(0, as: String.self), epoch: try row.decode(1, as: Int64.self), live: try row.decode(2, as: Bool.self),
            feedAddress: try row.decode(3, as: String.self))
    }

    /// The fencing check, inside a batch's transaction: true when `holder` still holds an
    /// unexpired lease at `epoch`. Locks the row `FOR SHARE` until the transaction ends, so
    /// no takeover can slip in between this check and the commit.
    public func holdsLease(holder: String, epoch: Int64) throws -> Bool {
        try query(
            """
            SELECT 1 FROM leader_lease
             WHERE id = 1 AND holder = \(holder) AND epoch = \(epoch) AND expires_at > clock_timestamp()
               FOR SHARE
            """
        ).count == 1
    }
}
