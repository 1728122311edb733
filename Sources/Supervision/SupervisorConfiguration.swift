/// How a ``Supervisor`` restarts its children.
public struct SupervisorConfiguration: Sendable {
    /// Names the supervisor in logs, metrics and status.
    public var name: String
    /// Which siblings restart together.
    public var strategy: SupervisionStrategy
    /// Restarts allowed per period before the supervisor fails.
    public var intensity: RestartIntensity
    /// Delay between a child's exit and its restart.
    public var backoff: RestartBackoff
    /// After a child's shutdown timeout it is cancelled and waited for this much longer before it is abandoned.
    public var cancellationGracePeriod: Duration
    /// Random samples in `0..<1` for the backoff jitter; replace it for deterministic tests.
    public var jitterSource: @Sendable () -> Double
    /// Whether an error a child threw means a dependency is unavailable (restart with backoff,
    /// without spending the restart intensity) rather than a bug (counted, and escalated past it).
    public var isTransient: @Sendable (any Error) -> Bool

    /// Creates a configuration; the defaults follow OTP (one-for-one, 3 restarts in 5 s) plus backoff.
    public init(
        name: String,
        strategy: SupervisionStrategy = .oneForOne,
        intensity: RestartIntensity = .init(),
        backoff: RestartBackoff = .init(),
        cancellationGracePeriod: Duration = .seconds(1),
        jitterSource: @escaping @Sendable () -> Double = { Double.random(in: 0..<1) },
        isTransient: @escaping @Sendable (any Error) -> Bool = { _ in false }
    ) {
        self.isTransient = isTransient
        self.name = name
        self.strategy = strategy
        self.intensity = intensity
        self.backoff = backoff
        self.cancellationGracePeriod = cancellationGracePeriod
        self.jitterSource = jitterSource
    }
}
