/// When each delivery attempt runs, counted from the previous failure.
///
/// `delays[0]` is the wait before the first attempt (normally zero), `delays[n]` the wait
/// after the n-th failed attempt; after `delays.count` failed attempts the message is dead.
/// The default is the Standard Webhooks example: immediately, 5 s, 5 min, 30 min, 2 h, 5 h,
/// 10 h, 14 h, 20 h, 24 h — ten attempts over about three days.
public struct RetrySchedule: Sendable, Hashable {
    /// Waits before attempts 1, 2, ... (at least one element).
    public var delays: [Duration]
    /// Jitter as a fraction of each delay: 0.2 spreads a delay over ±20 %.
    public var jitter: Double

    /// Creates a schedule; an empty list becomes a single immediate attempt.
    public init(delays: [Duration], jitter: Double = 0.2) {
        self.delays = delays.isEmpty ? [.zero] : delays
        self.jitter = max(0, min(jitter, 1))
    }

    /// The Standard Webhooks example schedule.
    public static let standard = RetrySchedule(delays: [
        .zero, .seconds(5), .seconds(5 * 60), .seconds(30 * 60), .seconds(2 * 3600),
        .seconds(5 * 3600), .seconds(10 * 3600), .seconds(14 * 3600), .seconds(20 * 3600), .seconds(24 * 3600),
    ])

    /// How many attempts a message gets before it is dead.
    public var maxAttempts: Int { delays.count }

    /// The wait after failed attempt `attempt` (1-based), jittered with `unit` in [0, 1);
    /// `nil` when that was the last attempt.
    public func delay(afterAttempt attempt: Int, unit: Double) -> Duration? {
        guard attempt >= 1, attempt < delays.count else { return nil }
        let base = delays[attempt]
        let factor = 1 + jitter * (2 * max(0, min(unit, 1)) - 1)
        return base * factor
    }
}
