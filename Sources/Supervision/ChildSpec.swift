import ServiceLifecycle

/// One supervised child: a service, its name, when it is restarted and how long it may take to stop.
public struct ChildSpec: Sendable {
    /// How the supervisor decides a child has started, before it starts the next one.
    public enum Readiness: Sendable, Hashable {
        /// Started as soon as its task exists.
        case immediate
        /// Started once it calls ``Supervisor/markReady()`` (or exits), waiting at most `timeout`.
        case signalled(timeout: Duration)
    }

    /// The child's name in logs, metrics and status.
    public var name: String
    /// The work; `run()` is called again on every restart.
    public var service: any Service
    /// When the child is restarted.
    public var restart: RestartType
    /// How long the child may take to finish after graceful shutdown (or cancellation) before it is cancelled, then abandoned.
    public var shutdownTimeout: Duration
    /// When the next child may start.
    public var readiness: Readiness

    /// Creates a child specification.
    public init(
        name: String,
        restart: RestartType = .permanent,
        shutdownTimeout: Duration = .seconds(5),
        readiness: Readiness = .immediate,
        service: any Service
    ) {
        self.name = name
        self.service = service
        self.restart = restart
        self.shutdownTimeout = shutdownTimeout
        self.readiness = readiness
    }
}
