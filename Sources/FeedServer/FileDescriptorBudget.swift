#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// How many feed connections the process can hold open, from its file-descriptor limit.
///
/// Every connection is a descriptor, and so is everything else the process needs to
/// keep working: PostgreSQL connections (writer, state, checkpointer, webhooks), webhook
/// sockets (up to 4 per endpoint), ops-port connections, the listeners, the event loops'
/// epoll/eventfd/timerfd, stdio and the rules files on a reload. A feed that takes every
/// descriptor starves all of these: `/healthz` stops answering and commits fail. So
/// the default cap leaves a reserve:
///
///     reserve = 128 + limit / 10        max-connections = limit - reserve
///
/// 128 covers the fixed needs above with room to spare; the tenth grows with the limit
/// and absorbs the connections being refused at any moment (each holds a descriptor
/// for the instant it takes to send its one line) and bursts on the ops port.
/// At the common soft limit of 1,024 that is 794 connections; at 65,536, 58,855.
public enum FileDescriptorBudget {
    /// Fixed part of the reserve (PostgreSQL, webhooks, ops port, event loops, stdio).
    public static let fixedReserve = 128
    /// Assumed when the limit is unlimited or cannot be read (no cap worth computing).
    public static let unlimited = 1 << 20

    /// The process's soft `RLIMIT_NOFILE`, capped at ``unlimited``; `nil` when unreadable.
    public static func openFileLimit() -> Int? {
        var limit = rlimit()
        guard getrlimit(Int32(RLIMIT_NOFILE.rawValue), &limit) == 0 else { return nil }
        // RLIM_INFINITY is the largest value, so "more than `unlimited`" covers it.
        if limit.rlim_cur > rlim_t(unlimited) { return unlimited }
        return Int(limit.rlim_cur)
    }

    /// Descriptors kept free of feed connections at `limit`.
    public static func reserve(forLimit limit: Int) -> Int {
        fixedReserve + limit / 10
    }

    /// The default `--max-connections` at `limit` (at least 1).
    public static func defaultMaximumConnections(forLimit limit: Int) -> Int {
        max(1, limit - reserve(forLimit: limit))
    }

    /// The default for this process, from its current limit.
    public static func defaultMaximumConnections() -> Int {
        defaultMaximumConnections(forLimit: openFileLimit() ?? unlimited)
    }
}
