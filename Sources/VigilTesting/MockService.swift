import ServiceLifecycle
import Supervision

/// A service for supervision tests that says what it does: every start, readiness, failure
/// and stop is recorded as an ``Event`` in ``events``, so a test awaits the event it needs
/// (as swift-service-lifecycle's own `MockService` does) instead of sleeping.
public struct MockService: Service, Sendable {
    /// What a mock service did, under its name.
    public enum Event: Sendable, Hashable, CustomStringConvertible {
        /// `run()` was entered.
        case started(String)
        /// It signalled readiness to its supervisor.
        case ready(String)
        /// It threw on purpose (run number given).
        case failed(String, run: Int)
        /// It returned of its own accord (a transient child done with its work).
        case finished(String)
        /// It returned because it was told to stop (graceful shutdown or cancellation).
        case stopped(String)

        public var description: String {
            switch self {
            case .started(let name): "start \(name)"
            case .ready(let name): "ready \(name)"
            case .failed(let name, let run): "fail \(name) \(run)"
            case .finished(let name): "finish \(name)"
            case .stopped(let name): "stop \(name)"
            }
        }
    }

    /// How a run that does not fail goes on.
    public enum Behaviour: Sendable {
        /// Marks itself ready (after `readyGate`, if given) and runs until graceful
        /// shutdown or cancellation.
        case runUntilStopped
        /// Returns at once, normally.
        case finish
        /// Ignores graceful shutdown and cancellation until `gate` is raised (a child that
        /// will not stop, for shutdown timeouts).
        case ignoreStopUntil(OneShotSignal)
    }

    /// Its name in the events.
    public let name: String
    /// Where its events go (shared between services, so their order is visible).
    public let events: EventRecorder<Event>
    /// How many runs throw before one succeeds.
    public var failures: Int
    /// What a run that does not fail does.
    public var behaviour: Behaviour
    /// When given, readiness waits for this gate, so a test decides when it happens.
    public var readyGate: OneShotSignal?

    /// Creates a mock service.
    public init(
        name: String, events: EventRecorder<Event>, failures: Int = 0,
        behaviour: Behaviour = .runUntilStopped, readyGate: OneShotSignal? = nil
    ) {
        self.name = name
        self.events = events
        self.failures = failures
        self.behaviour = behaviour
        self.readyGate = readyGate
    }

    /// How many times it has been started.
    public var runs: Int { self.events.count(of: .started(self.name)) }

    public func run() async throws {
        self.events.record(.started(self.name))
        let run = self.runs
        if run <= self.failures {
            self.events.record(.failed(self.name, run: run))
            throw MockServiceError.failedOnPurpose(name: self.name, run: run)
        }
        switch self.behaviour {
        case .finish:
            self.events.record(.finished(self.name))
        case .ignoreStopUntil(let gate):
            // A detached task is not cancelled with us, and awaiting its value ignores cancellation.
            _ = await Task.detached { await gate.wait() }.value
            self.events.record(.stopped(self.name))
        case .runUntilStopped:
            if let readyGate = self.readyGate { _ = await readyGate.wait() }
            // Recorded before the supervisor hears of it, so the event precedes whatever readiness lets start.
            self.events.record(.ready(self.name))
            Supervisor.markReady()
            try? await gracefulShutdown()  // returns on graceful shutdown, throws on cancellation
            self.events.record(.stopped(self.name))
        }
    }
}

/// The failure a ``MockService`` throws on purpose.
public enum MockServiceError: Error, Hashable, CustomStringConvertible {
    /// Service `name` threw on its run number `run`, as told to.
    case failedOnPurpose(name: String, run: Int)

    public var description: String {
        switch self {
        case .failedOnPurpose(let name, let run): "\(name) failed on purpose (run \(run))"
        }
    }
}
