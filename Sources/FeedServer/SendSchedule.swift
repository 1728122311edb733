/// When each record of one sender connection is due, for a steady (open-loop) send rate.
///
/// Record `k` (from 0) is due `k / rate` seconds after the start, whatever happened to
/// the ones before it: a sender that was held up (a takeover, a full socket) sends what
/// fell due meanwhile at once and is back on the timetable after, so the offered load is
/// the rate over the run and a stall never slows the rest of it. A `rate` of 0 means no
/// pacing: everything is due at the start.
public struct SendSchedule: Sendable, Equatable {
    /// Records per second on this connection; 0 for as fast as possible.
    public let rate: Double
    /// How many records the connection sends in all.
    public let count: Int

    /// A schedule for `count` records at `rate` a second (0 or less: unpaced).
    public init(rate: Double, count: Int) {
        self.rate = rate > 0 ? rate : 0
        self.count = max(0, count)
    }

    /// One connection's share of a total rate: the shares are in proportion to the records
    /// each connection sends, so they add up to `total` and all finish together.
    public static func share(ofTotal total: Double, records: Int, ofAll allRecords: Int) -> SendSchedule {
        guard total > 0, allRecords > 0 else { return SendSchedule(rate: 0, count: records) }
        return SendSchedule(rate: total * Double(records) / Double(allRecords), count: records)
    }

    /// How many records (from the first) are due `elapsed` after the start: those whose
    /// `dueTime` is not after it (the same arithmetic, so the two never disagree).
    public func dueCount(after elapsed: Duration) -> Int {
        guard count > 0 else { return 0 }
        guard rate > 0 else { return count }
        guard elapsed >= .zero else { return 0 }
        let estimate = (Self.seconds(elapsed) * rate).rounded(.down)
        guard estimate < Double(count) else { return count }
        // The last due index: the estimate, corrected for the rounding of either side.
        var last = max(0, Int(estimate))
        while last + 1 < count, let next = dueTime(of: last + 1), next <= elapsed { last += 1 }
        while last > 0, let time = dueTime(of: last), time > elapsed { last -= 1 }
        return last + 1
    }

    /// When record `index` is due, after the start; nil past the last record.
    public func dueTime(of index: Int) -> Duration? {
        guard index >= 0, index < count else { return nil }
        guard rate > 0, index > 0 else { return .zero }
        return .nanoseconds(Int64((Double(index) * 1e9 / rate).rounded(.up)))
    }

    /// How long a sender that has sent `sent` records should wait, `elapsed` after the start,
    /// before it looks again: until the next record is due, but at least `tick` (records
    /// that fall due within a tick go out in one write rather than one wake-up each).
    /// nil once every record is sent; zero when some are due now.
    public func wait(sent: Int, elapsed: Duration, tick: Duration = .milliseconds(2)) -> Duration? {
        guard let next = dueTime(of: sent) else { return nil }
        if next <= elapsed { return .zero }
        return max(next - elapsed, tick)
    }

    private static func seconds(_ duration: Duration) -> Double {
        let parts = duration.components
        return Double(parts.seconds) + Double(parts.attoseconds) / 1e18
    }
}
