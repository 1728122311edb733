/// A snapshot of a supervision tree's health, for `/healthz` and logs.
public struct SupervisorStatus: Sendable, Hashable {
    /// Where the supervisor itself stands.
    public enum State: Sendable, Hashable {
        /// `run()` has not been called yet.
        case idle
        /// Supervising its children.
        case running
        /// Stopping its children after cancellation or graceful shutdown.
        case stopping
        /// `run()` returned normally.
        case stopped
        /// `run()` threw: restart intensity exceeded.
        case failed
    }

    /// Where one child stands.
    public struct Child: Sendable, Hashable {
        /// Where the child's current run stands.
        public enum State: Sendable, Hashable {
            /// Not started yet.
            case idle
            /// Running.
            case running
            /// Exited and waiting for its backoff delay before restarting.
            case restarting
            /// Returned normally and is not restarted.
            case stopped
            /// Threw and is not restarted, or was stopped for good by its supervisor.
            case failed
        }

        /// The child's name.
        public var name: String
        /// When the child is restarted.
        public var restart: RestartType
        /// Its state.
        public var state: State
        /// How often it was restarted since the supervisor started.
        public var restartCount: Int
        /// The last error it threw, described.
        public var lastError: String?
        /// The child's own status when the child is a ``Supervisor``.
        public var nested: SupervisorStatus?

        /// Running (and healthy, when it is a supervisor), or deliberately not running.
        public var isHealthy: Bool {
            switch self.state {
            case .running: return self.nested?.isHealthy ?? true
            case .stopped: return self.restart != .permanent
            case .failed: return self.restart == .temporary
            case .idle, .restarting: return false
            }
        }

        /// Not given up on: running, waiting out a restart backoff (say while a dependency is
        /// down), or deliberately not running. Only a permanent child that failed for good is not.
        public var isAlive: Bool {
            switch self.state {
            case .running: return self.nested?.isAlive ?? true
            case .idle, .restarting: return true
            case .stopped: return true
            case .failed: return self.restart == .temporary
            }
        }
    }

    /// The supervisor's name.
    public var name: String
    /// Its state.
    public var state: State
    /// Its children, in start order.
    public var children: [Child]

    /// The supervisor runs and every child is healthy.
    public var isHealthy: Bool {
        self.state == .running && self.children.allSatisfy(\.isHealthy)
    }

    /// The supervisor runs and none of its children has been given up on (what `/healthz`
    /// reports: a stage retrying an unreachable database is alive, not broken).
    public var isAlive: Bool {
        self.state == .running && self.children.allSatisfy(\.isAlive)
    }
}
