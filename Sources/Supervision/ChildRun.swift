@_spi(TestKit) import ServiceLifecycle

/// One run of a child: its own task (so it can be cancelled alone, which a task group
/// cannot do), its own graceful-shutdown scope, and signals for "ready" and "exited".
///
/// The graceful-shutdown scope uses swift-service-lifecycle's `GracefulShutdownManager`
/// (exposed as `@_spi(TestKit)`, the same type `ServiceGroup` uses per service), so a child's
/// `gracefulShutdown()`, `cancelWhenGracefulShutdown` and `withGracefulShutdownHandler` respond
/// when *its* supervisor stops it, in reverse start order, not all at once.
struct ChildRun: Sendable {
    let task: Task<Void, Never>
    let exited: OneShotSignal
    let ready: OneShotSignal
    let shutdownManager: GracefulShutdownManager

    /// Triggers graceful shutdown for this run only.
    func requestGracefulShutdown() {
        self.shutdownManager.shutdownGracefully()
    }

    /// Starts `service` in a new task; reports its end on `events`.
    static func start(
        _ service: any Service,
        child: Int,
        generation: Int,
        events: AsyncStream<SupervisorEvent>.Continuation
    ) -> ChildRun {
        let exited = OneShotSignal()
        let ready = OneShotSignal()
        let manager = GracefulShutdownManager()
        let task = Task {
            var failure: (any Error)?
            do {
                try await TaskLocals.$gracefulShutdownManager.withValue(manager) {
                    try await Supervisor.$readySignal.withValue(ready) {
                        try await service.run()
                    }
                }
            } catch {
                failure = error
            }
            exited.raise()
            ready.raise()
            events.yield(.exited(child: child, generation: generation, error: failure))
        }
        return ChildRun(task: task, exited: exited, ready: ready, shutdownManager: manager)
    }
}

/// What the supervisor's loop reacts to.
enum SupervisorEvent: Sendable {
    case exited(child: Int, generation: Int, error: (any Error)?)
    case timer(Int)
    case shutdown(graceful: Bool)
}
