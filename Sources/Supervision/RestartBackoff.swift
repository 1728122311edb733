/// Exponential backoff with jitter between a child's exit and its restart.
///
/// The n-th consecutive restart of a child waits `min(maximum, base * multiplier^(n-1))`,
/// reduced by up to `jitter` of itself at random, so the result always lies in
/// `[d * (1 - jitter), d]` and never exceeds `maximum`. The count goes back to zero once a
/// child has stayed up for `resetAfter`.
public struct RestartBackoff: Sendable, Hashable {
    /// Delay before the first restart.
    public var base: Duration
    /// Upper bound of any delay.
    public var maximum: Duration
    /// Growth factor per consecutive restart (at least 1).
    public var multiplier: Double
    /// Fraction of the delay that is randomised away, in `0...1`.
    public var jitter: Double
    /// A child that ran at least this long before exiting starts again from `base`.
    public var resetAfter: Duration

    /// Creates a backoff policy; the defaults suit a pipeline stage (100 ms doubling up to 5 s, 20 % jitter).
    public init(
        base: Duration = .milliseconds(100),
        maximum: Duration = .seconds(5),
        multiplier: Double = 2,
        jitter: Double = 0.2,
        resetAfter: Duration = .seconds(30)
    ) {
        self.base = max(.zero, base)
        self.maximum = max(self.base, maximum)
        self.multiplier = max(1, multiplier)
        self.jitter = min(1, max(0, jitter))
        self.resetAfter = resetAfter
    }

    /// No waiting at all between restarts (OTP's behaviour).
    public static let none = RestartBackoff(base: .zero, maximum: .zero, jitter: 0)

    /// The delay before restart number `attempt` (1-based), given a jitter sample in `0..<1`.
    public func delay(attempt: Int, jitterSample: Double) -> Duration {
        let maxSeconds = Self.seconds(self.maximum)
        var seconds = Self.seconds(self.base)
        var step = 1
        while step < attempt && seconds < maxSeconds {
            seconds *= self.multiplier
            step += 1
        }
        seconds = min(seconds, maxSeconds)
        let sample = min(1, max(0, jitterSample.isFinite ? jitterSample : 0))
        seconds *= 1 - self.jitter * sample
        // Clamped so an absurd `maximum` cannot overflow the conversion (which would trap).
        let nanoseconds = min(max(0, seconds * 1e9), 9.0e18)
        return .nanoseconds(Int64(nanoseconds.rounded(.down)))
    }

    static func seconds(_ duration: Duration) -> Double {
        let parts = duration.components
        return Double(parts.seconds) + Double(parts.attoseconds) / 1e18
    }
}
