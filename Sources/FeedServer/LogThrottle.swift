/// Decides when a repeated event is worth a log line: the first at once, then at most
/// one per `interval`, each saying how many went unlogged since the last.
///
/// A flood of refused connections or failed accepts must not flood the log (and the
/// disk, and the collector); the counters in `/metrics` carry the exact numbers.
struct LogThrottle: Sendable {
    let interval: Duration
    private var lastLogged: ContinuousClock.Instant?
    private var suppressed = 0

    init(interval: Duration = .seconds(10)) {
        self.interval = interval
    }

    /// Records one event at `now`; returns how many earlier events went unlogged when
    /// this one should be logged, `nil` when it should not.
    mutating func record(at now: ContinuousClock.Instant) -> Int? {
        if let last = lastLogged, now - last < interval {
            suppressed += 1
            return nil
        }
        lastLogged = now
        defer { suppressed = 0 }
        return suppressed
    }
}
