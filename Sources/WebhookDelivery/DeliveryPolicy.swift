/// Decides what follows one delivery attempt: delivered, retried after a delay, or dead;
/// and whether the endpoint is healthy, failing, or to be disabled. Pure: the caller passes
/// the attempt number, how long the endpoint has been failing, and the jitter unit.
public struct DeliveryPolicy: Sendable, Hashable {
    /// The retry schedule.
    public var schedule: RetrySchedule
    /// An endpoint failing continuously this long is disabled (nil: never automatically).
    public var disableAfter: Duration?
    /// The longest `Retry-After` honored; longer values are capped to it.
    public var maxRetryAfter: Duration

    /// Creates a policy.
    public init(schedule: RetrySchedule = .standard, disableAfter: Duration? = .seconds(5 * 24 * 3600), maxRetryAfter: Duration = .seconds(24 * 3600))
    {
        self.schedule = schedule
        self.disableAfter = disableAfter
        self.maxRetryAfter = maxRetryAfter
    }

    /// What happens to the message.
    public enum MessageAction: Sendable, Hashable {
        /// 2xx: done.
        case delivered
        /// Try again after the delay.
        case retry(after: Duration)
        /// That was the last attempt.
        case dead
    }

    /// What happens to the endpoint.
    public enum EndpointAction: Sendable, Hashable {
        /// Succeeded: clear any failing streak.
        case healthy
        /// Failed: start or continue the failing streak.
        case failing
        /// Disable it now, with the reason shown by `vigil webhooks list`.
        case disable(reason: String)
    }

    /// The decision for one attempt.
    public struct Decision: Sendable, Hashable {
        /// The message's fate.
        public var message: MessageAction
        /// The endpoint's fate.
        public var endpoint: EndpointAction
    }

    /// Decides after attempt `attempt` (1-based) ended with `outcome`.
    ///
    /// - Parameters:
    ///   - failingFor: how long the endpoint has failed without a success, counting this
    ///     attempt (zero for the first failure); ignored on success.
    ///   - jitterUnit: a number in [0, 1) that spreads the delay (fixed in tests).
    public func decide(attempt: Int, outcome: DeliveryOutcome, failingFor: Duration, jitterUnit: Double) -> Decision {
        if outcome.isSuccess {
            return Decision(message: .delivered, endpoint: .healthy)
        }
        var endpoint = EndpointAction.failing
        if case .response(410, _) = outcome {
            endpoint = .disable(reason: "the endpoint answered 410 Gone")
        } else if let disableAfter, failingFor >= disableAfter {
            endpoint = .disable(reason: "failing continuously for \(Self.describe(failingFor)) (limit \(Self.describe(disableAfter)))")
        }
        guard var delay = schedule.delay(afterAttempt: attempt, unit: jitterUnit) else {
            return Decision(message: .dead, endpoint: endpoint)
        }
        if case .response(_, let retryAfter?) = outcome, outcome.asksToSlowDown {
            delay = max(delay, min(retryAfter, maxRetryAfter))
        }
        return Decision(message: .retry(after: delay), endpoint: endpoint)
    }

    /// `3d 4h`, `2h 5m`, `5m 3s`, `12s`, `250ms`.
    static func describe(_ duration: Duration) -> String {
        let seconds = duration.components.seconds
        if seconds >= 86_400 { return "\(seconds / 86_400)d \(seconds % 86_400 / 3600)h" }
        if seconds >= 3600 { return "\(seconds / 3600)h \(seconds % 3600 / 60)m" }
        if seconds >= 60 { return "\(seconds / 60)m \(seconds % 60)s" }
        if seconds >= 1 { return "\(seconds)s" }
        return "\(duration.components.attoseconds / 1_000_000_000_000_000)ms"
    }
}
