import DequeModule

/// The decisions of a supervisor, free of tasks and clocks: it is fed events with the current
/// instant and answers with the ``Action`` the runtime must carry out.
///
/// Children are identified by their index in start order. Every start of a child gets a new
/// generation, so a late exit report from an earlier run (one the supervisor stopped itself)
/// is recognised and ignored.
public struct SupervisorStateMachine<Instant: InstantProtocol>: Sendable where Instant.Duration == Duration {
    /// A child's index in start order.
    public typealias ChildID = Int

    /// What the state machine needs to know about a child.
    public struct ChildDescriptor: Sendable, Hashable {
        /// The child's name, for logs and errors.
        public var name: String
        /// When the child is restarted.
        public var restart: RestartType

        /// Creates a descriptor.
        public init(name: String, restart: RestartType) {
            self.name = name
            self.restart = restart
        }
    }

    /// One child to start, with the generation its exit report must carry.
    public struct Start: Sendable, Hashable {
        /// The child.
        public var child: ChildID
        /// The generation of this run.
        public var generation: Int
    }

    /// The restart of one or more children after a delay.
    public struct RestartPlan: Sendable, Hashable {
        /// The child whose exit caused the restart.
        public var cause: ChildID
        /// Running siblings to stop now, in the order to stop them (reverse start order).
        public var stop: [ChildID]
        /// Children to start again when the timer fires, in start order.
        public var restart: [ChildID]
        /// How long to wait before calling ``restartTimerFired(_:now:)``.
        public var delay: Duration
        /// Identifies the timer; pass it back to ``restartTimerFired(_:now:)``.
        public var timer: Int
    }

    /// What the runtime must do next.
    public enum Action: Sendable, Hashable {
        /// Nothing.
        case none
        /// Start these children in this order.
        case start([Start])
        /// Stop `plan.stop` now, then after `plan.delay` report the timer.
        case scheduleRestart(RestartPlan)
        /// Restart intensity exceeded: stop these children (already in stop order) and fail the supervisor.
        case escalate(cause: ChildID, stop: [ChildID])
        /// Stop these children (already in stop order) and return.
        case shutdown(stop: [ChildID])
    }

    /// Where one child stands.
    public enum ChildState: Sendable, Hashable {
        /// Not started yet.
        case idle
        /// Running as the given generation.
        case running(generation: Int)
        /// Waiting for the restart timer.
        case restarting(timer: Int)
        /// Returned normally and is not restarted.
        case stopped
        /// Threw and is not restarted (temporary child), or was stopped by the supervisor.
        case failed
    }

    enum Phase: Sendable, Hashable {
        case idle, running, shuttingDown, escalated
    }

    struct Child: Sendable {
        var descriptor: ChildDescriptor
        var state: ChildState = .idle
        var generation = 0
        var startedAt: Instant?
        var consecutiveRestarts = 0
        var totalRestarts = 0
    }

    private(set) var phase: Phase = .idle
    private var children: [Child]
    private var restartTimes: Deque<Instant> = []
    private var nextTimer = 0
    let strategy: SupervisionStrategy
    let intensity: RestartIntensity
    let backoff: RestartBackoff
    let jitterSource: @Sendable () -> Double

    /// Creates a state machine for children in start order.
    public init(
        children: [ChildDescriptor],
        strategy: SupervisionStrategy,
        intensity: RestartIntensity = .init(),
        backoff: RestartBackoff = .init(),
        jitterSource: @escaping @Sendable () -> Double = { Double.random(in: 0..<1) }
    ) {
        self.children = children.map { Child(descriptor: $0) }
        self.strategy = strategy
        self.intensity = intensity
        self.backoff = backoff
        self.jitterSource = jitterSource
    }

    /// The state of a child, or `nil` for an unknown id.
    public func state(of child: ChildID) -> ChildState? {
        self.children.indices.contains(child) ? self.children[child].state : nil
    }

    /// How many times a child has been restarted (as the cause or with its group) since the supervisor started.
    public func restartCount(of child: ChildID) -> Int {
        self.children.indices.contains(child) ? self.children[child].totalRestarts : 0
    }

    /// The supervisor starts: every child, in order.
    public mutating func start(now: Instant) -> Action {
        guard self.phase == .idle else { return .none }
        self.phase = .running
        return .start(self.children.indices.map { self.markStarted($0, now: now) })
    }

    /// A child's run ended, normally (`failed == false`) or by throwing.
    ///
    /// A `transient` failure (a dependency such as the database is unreachable, as the
    /// supervisor's ``SupervisorConfiguration/isTransient`` classifies it) is restarted
    /// with the same capped backoff but does not count against the restart intensity:
    /// an outage is a state to wait out, not a crash loop to escalate.
    public mutating func childExited(_ child: ChildID, generation: Int, failed: Bool, transient: Bool = false, now: Instant) -> Action {
        guard self.phase == .running, self.children.indices.contains(child),
            self.children[child].state == .running(generation: generation)
        else { return .none }  // stale report, or we are stopping anyway

        let descriptor = self.children[child].descriptor
        guard descriptor.restart.restarts(afterError: failed) else {
            self.children[child].state = failed ? .failed : .stopped
            return .none
        }

        if !(failed && transient) {
            self.restartTimes.append(now)
        }
        while let first = self.restartTimes.first, first.duration(to: now) > self.intensity.period {
            self.restartTimes.removeFirst()
        }
        if !(failed && transient), self.restartTimes.count > self.intensity.maxRestarts {
            self.children[child].state = .failed
            self.phase = .escalated
            return .escalate(cause: child, stop: self.runningInStopOrder())
        }

        if let startedAt = self.children[child].startedAt, startedAt.duration(to: now) >= self.backoff.resetAfter {
            self.children[child].consecutiveRestarts = 0
        }
        self.children[child].consecutiveRestarts += 1
        let delay = self.backoff.delay(attempt: self.children[child].consecutiveRestarts, jitterSample: self.jitterSource())

        let timer = self.nextTimer
        self.nextTimer += 1
        var stop: [ChildID] = []
        var restart: [ChildID] = []
        for index in self.affected(by: child) {
            let sibling = self.children[index]
            if index != child, case .running = sibling.state { stop.append(index) }
            if index == child || sibling.descriptor.restart != .temporary {
                restart.append(index)
                self.children[index].state = .restarting(timer: timer)
                self.children[index].totalRestarts += 1
            } else {
                self.children[index].state = .failed  // a temporary child stopped by a group restart stays down
            }
        }
        return .scheduleRestart(RestartPlan(cause: child, stop: stop.reversed(), restart: restart, delay: delay, timer: timer))
    }

    /// The delay of a restart plan has passed: start whichever of its children still wait for it.
    public mutating func restartTimerFired(_ timer: Int, now: Instant) -> Action {
        guard self.phase == .running else { return .none }
        let due = self.children.indices.filter { self.children[$0].state == .restarting(timer: timer) }
        guard !due.isEmpty else { return .none }
        return .start(due.map { self.markStarted($0, now: now) })
    }

    /// The supervisor is asked to stop (cancellation or graceful shutdown).
    public mutating func shutdown() -> Action {
        switch self.phase {
        case .shuttingDown, .escalated:
            return .none
        case .idle, .running:
            self.phase = .shuttingDown
            return .shutdown(stop: self.runningInStopOrder())
        }
    }

    private mutating func markStarted(_ child: ChildID, now: Instant) -> Start {
        self.children[child].generation += 1
        self.children[child].startedAt = now
        let generation = self.children[child].generation
        self.children[child].state = .running(generation: generation)
        return Start(child: child, generation: generation)
    }

    /// The children a restart of `child` touches, in start order, per the strategy.
    private func affected(by child: ChildID) -> [ChildID] {
        let candidates: [ChildID]
        switch self.strategy {
        case .oneForOne: return [child]
        case .oneForAll: candidates = Array(self.children.indices)
        case .restForOne: candidates = Array(child..<self.children.count)
        }
        return candidates.filter { index in
            switch self.children[index].state {
            case .running, .restarting: return true
            case .idle, .stopped, .failed: return index == child
            }
        }
    }

    private func runningInStopOrder() -> [ChildID] {
        self.children.indices.reversed().filter {
            if case .running = self.children[$0].state { return true }
            return false
        }
    }
}
