/// The most restarts a supervisor performs within a period before it gives up and fails
/// itself, escalating to its parent (OTP's `intensity` and `period`).
public struct RestartIntensity: Sendable, Hashable {
    /// Restarts allowed within `period`; one more escalates. Zero means the first failure escalates.
    public var maxRestarts: Int
    /// The sliding window the restarts are counted in.
    public var period: Duration

    /// Creates an intensity; the defaults are OTP's: 3 restarts in 5 seconds.
    public init(maxRestarts: Int = 3, period: Duration = .seconds(5)) {
        self.maxRestarts = max(0, maxRestarts)
        self.period = period
    }
}
