import Logging
import Metrics
import ServiceLifecycle
import Synchronization

/// An OTP-style supervisor: runs its children (services) in order, restarts them by strategy
/// with backoff, fails by throwing ``SupervisorError`` when restarts exceed the intensity, and
/// stops its children in reverse order, each within its shutdown timeout.
///
/// A supervisor is a `Service`, so it can run in a `ServiceGroup` or be a child of another
/// supervisor. Graceful shutdown of the supervisor is passed on to each child in reverse start
/// order; cancellation cancels each child in reverse order. A child that does not finish in
/// time is cancelled, then abandoned with an error log — never a trap.
///
/// Run one supervisor at a time: calling `run()` again after it returned is fine (a parent
/// does that to restart it), calling it concurrently is not supported.
public final class Supervisor: Service, Sendable {
    /// How this supervisor restarts its children.
    public let configuration: SupervisorConfiguration
    /// The children, in start order.
    public let children: [ChildSpec]
    let logger: Logger
    let restartCounters: [Counter]
    let statusBox: Mutex<SupervisorStatus>

    @TaskLocal static var readySignal: OneShotSignal?

    /// Creates a supervisor.
    ///
    /// - Parameters:
    ///   - configuration: Name, strategy, intensity and backoff.
    ///   - children: The children, in start order.
    ///   - logger: Where restarts and abandoned children are logged.
    ///   - metricsFactory: Where `vigil_supervisor_restarts_total` is counted; the global factory by default.
    public init(
        configuration: SupervisorConfiguration,
        children: [ChildSpec],
        logger: Logger = Logger(label: "vigil.supervisor"),
        metricsFactory: (any MetricsFactory)? = nil
    ) {
        self.configuration = configuration
        self.children = children
        var logger = logger
        logger[metadataKey: "supervisor"] = .string(configuration.name)
        self.logger = logger
        let factory = metricsFactory ?? MetricsSystem.factory
        self.restartCounters = children.map {
            Counter(
                label: "vigil_supervisor_restarts_total",
                dimensions: [("supervisor", configuration.name), ("child", $0.name)],
                factory: factory
            )
        }
        self.statusBox = Mutex(
            SupervisorStatus(
                name: configuration.name,
                state: .idle,
                children: children.map {
                    .init(name: $0.name, restart: $0.restart, state: .idle, restartCount: 0, lastError: nil, nested: nil)
                }
            )
        )
    }

    /// A snapshot of this supervisor and, recursively, of child supervisors.
    public var status: SupervisorStatus {
        var status = self.statusBox.withLock { $0 }
        for index in status.children.indices where index < self.children.count {
            if let nested = self.children[index].service as? Supervisor {
                status.children[index].nested = nested.status
            }
        }
        return status
    }

    /// Called by a child whose ``ChildSpec/readiness`` is `.signalled`: the next child may start.
    ///
    /// Does nothing outside a supervised child. A nested supervisor calls it for itself once
    /// all its own children have started.
    public static func markReady() {
        Self.readySignal?.raise()
    }

    /// Runs the children until cancellation or graceful shutdown (returns) or until restart
    /// intensity is exceeded (throws ``SupervisorError``).
    public func run() async throws {
        let (events, continuation) = AsyncStream.makeStream(of: SupervisorEvent.self)
        defer { continuation.finish() }
        var loop = SupervisorLoop(supervisor: self, events: continuation)
        try await withGracefulShutdownHandler {
            try await loop.run(events)
        } onGracefulShutdown: {
            continuation.yield(.shutdown(graceful: true))
        }
    }

    /// Stops one child run: graceful shutdown (or cancellation), its timeout, then cancellation, then abandonment.
    func stop(_ run: ChildRun, spec: ChildSpec, graceful: Bool) async {
        if graceful {
            run.requestGracefulShutdown()
            if await run.exited.wait(timeout: spec.shutdownTimeout) { return }
            self.logger.warning(
                "child did not finish within its shutdown timeout after graceful shutdown; cancelling it",
                metadata: ["child": .string(spec.name), "shutdown_timeout": .stringConvertible(spec.shutdownTimeout)]
            )
            run.task.cancel()
            if await run.exited.wait(timeout: self.configuration.cancellationGracePeriod) { return }
        } else {
            run.task.cancel()
            if await run.exited.wait(timeout: spec.shutdownTimeout) { return }
        }
        self.logger.error(
            "child did not stop after cancellation; abandoning it (its task may still be running)",
            metadata: ["child": .string(spec.name)]
        )
    }
}
