/// Per-endpoint slow-down state: after a 429, 502 or 504 the endpoint's worker pauses
/// (for `Retry-After` when given, else an exponential backoff) and then works with a
/// concurrency of one until a success restores the configured limit. Pure; the worker
/// passes the clock reading.
public struct EndpointThrottle: Sendable, Hashable {
    /// The first pause when no `Retry-After` is given.
    public var initialPause: Duration
    /// The longest pause.
    public var maxPause: Duration
    /// The configured concurrency limit.
    public var concurrency: Int

    /// When the endpoint may be called again (nil: now).
    public private(set) var pausedUntil: ContinuousClock.Instant?
    /// The pause the next slow-down without `Retry-After` will use.
    public private(set) var nextPause: Duration
    /// Whether the endpoint is in slow mode (concurrency one).
    public private(set) var slowed = false

    /// Creates a throttle in the normal state.
    public init(concurrency: Int, initialPause: Duration = .seconds(1), maxPause: Duration = .seconds(300)) {
        self.concurrency = max(1, concurrency)
        self.initialPause = initialPause
        self.maxPause = maxPause
        self.nextPause = initialPause
    }

    /// How many requests may be in flight now.
    public var currentLimit: Int { slowed ? 1 : concurrency }

    /// Whether a new attempt may start at `now`.
    public func mayStart(at now: ContinuousClock.Instant) -> Bool {
        guard let pausedUntil else { return true }
        return now >= pausedUntil
    }

    /// Records an attempt's outcome at `now`.
    public mutating func record(_ outcome: DeliveryOutcome, at now: ContinuousClock.Instant) {
        if outcome.isSuccess {
            slowed = false
            pausedUntil = nil
            nextPause = initialPause
            return
        }
        guard outcome.asksToSlowDown else { return }
        slowed = true
        var pause = nextPause
        if case .response(_, let retryAfter?) = outcome {
            pause = min(retryAfter, maxPause)
        } else {
            nextPause = min(nextPause * 2, maxPause)
        }
        let until = now + pause
        pausedUntil = max(pausedUntil ?? until, until)
    }
}
