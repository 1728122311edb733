import Logging

/// The runtime half of a ``Supervisor``: owns the child tasks and timers of one `run()`,
/// feeds events to the ``SupervisorStateMachine`` and carries out its actions.
///
/// All its state is local to one `run()` call and touched only by that call's task.
struct SupervisorLoop {
    typealias Machine = SupervisorStateMachine<ContinuousClock.Instant>

    let supervisor: Supervisor
    let events: AsyncStream<SupervisorEvent>.Continuation
    var machine: Machine
    var runs: [ChildRun?]
    var lastErrors: [(any Error)?]
    /// Whether each child's last exit was a dependency failure (logged as a warning, not counted as a crash).
    var lastExitTransient: [Bool]
    var timers: [Int: Task<Void, Never>] = [:]
    var gracefulShutdown = false
    var supervisorState = SupervisorStatus.State.running

    init(supervisor: Supervisor, events: AsyncStream<SupervisorEvent>.Continuation) {
        let configuration = supervisor.configuration
        self.supervisor = supervisor
        self.events = events
        self.machine = Machine(
            children: supervisor.children.map { .init(name: $0.name, restart: $0.restart) },
            strategy: configuration.strategy,
            intensity: configuration.intensity,
            backoff: configuration.backoff,
            jitterSource: configuration.jitterSource
        )
        self.runs = Array(repeating: nil, count: supervisor.children.count)
        self.lastErrors = Array(repeating: nil, count: supervisor.children.count)
        self.lastExitTransient = Array(repeating: false, count: supervisor.children.count)
    }

    mutating func run(_ stream: AsyncStream<SupervisorEvent>) async throws {
        var action = self.machine.start(now: .now)
        var iterator = stream.makeAsyncIterator()
        var startedAll = false
        while true {
            if try await self.perform(action) { return }
            self.publishStatus()
            if !startedAll {
                startedAll = true
                Supervisor.markReady()  // for a parent waiting on this supervisor's readiness
            }
            // A cancelled task ends the stream (nil): treat it like a shutdown request.
            guard !Task.isCancelled, let event = await iterator.next() else {
                action = self.machine.shutdown()
                continue
            }
            switch event {
            case .exited(let child, let generation, let error):
                if let error { self.lastErrors[child] = error }
                let transient = error.map { self.supervisor.configuration.isTransient($0) } ?? false
                self.lastExitTransient[child] = transient
                action = self.machine.childExited(child, generation: generation, failed: error != nil, transient: transient, now: .now)
            case .timer(let timer):
                self.timers[timer] = nil
                action = self.machine.restartTimerFired(timer, now: .now)
            case .shutdown(let graceful):
                self.gracefulShutdown = graceful
                action = self.machine.shutdown()
            }
        }
    }

    /// Carries out an action; returns `true` once the supervisor is done.
    private mutating func perform(_ action: Machine.Action) async throws -> Bool {
        switch action {
        case .none:
            return false
        case .start(let starts):
            for start in starts { await self.startChild(start) }
            return false
        case .scheduleRestart(let plan):
            self.logRestart(plan)
            for child in plan.restart { self.supervisor.restartCounters[child].increment() }
            await self.stopChildren(plan.stop, graceful: true)
            let events = self.events
            self.timers[plan.timer] = Task {
                do {
                    try await Task.sleep(for: plan.delay)
                    events.yield(.timer(plan.timer))
                } catch {}  // cancelled: the supervisor is stopping
            }
            return false
        case .escalate(let cause, let stop):
            let spec = self.supervisor.children[cause]
            self.supervisor.logger.error(
                "restart intensity exceeded; stopping all children and failing the supervisor",
                metadata: ["child": .string(spec.name), "error": .string(self.lastErrors[cause].map { "\($0)" } ?? "none")]
            )
            self.supervisorState = .stopping
            self.publishStatus()
            await self.stopAll(stop, graceful: true)
            self.supervisorState = .failed
            self.publishStatus()
            throw SupervisorError(
                code: .restartIntensityExceeded,
                supervisor: self.supervisor.configuration.name,
                child: spec.name,
                underlying: self.lastErrors[cause]
            )
        case .shutdown(let stop):
            self.supervisorState = .stopping
            self.publishStatus()
            await self.stopAll(stop, graceful: self.gracefulShutdown)
            self.supervisorState = .stopped
            self.publishStatus()
            return true
        }
    }

    private mutating func startChild(_ start: Machine.Start) async {
        let spec = self.supervisor.children[start.child]
        let run = ChildRun.start(spec.service, child: start.child, generation: start.generation, events: self.events)
        self.runs[start.child] = run
        if case .signalled(let timeout) = spec.readiness, !(await run.ready.wait(timeout: timeout)), !Task.isCancelled {
            self.supervisor.logger.warning(
                "child did not signal readiness in time; starting the next child anyway",
                metadata: ["child": .string(spec.name), "timeout": .stringConvertible(timeout)]
            )
        }
    }

    private mutating func stopAll(_ children: [Int], graceful: Bool) async {
        for timer in self.timers.values { timer.cancel() }
        self.timers.removeAll()
        await self.stopChildren(children, graceful: graceful)
    }

    /// Stops children one after another, in the given order, in a task of its own so the
    /// timeouts still hold when the supervisor's task is already cancelled.
    private mutating func stopChildren(_ children: [Int], graceful: Bool) async {
        let targets = children.compactMap { child in self.runs[child].map { (self.supervisor.children[child], $0) } }
        for child in children { self.runs[child] = nil }
        guard !targets.isEmpty else { return }
        let supervisor = self.supervisor
        let stopping = Task {
            for (spec, run) in targets { await supervisor.stop(run, spec: spec, graceful: graceful) }
        }
        await withTaskCancellationHandler {
            await stopping.value
        } onCancel: {
            // Cancelled while draining gracefully (say a ServiceGroup gave up waiting): stop
            // waiting on drains and cancel everyone. A cancelling stop already goes child by
            // child in reverse order, each within its timeout, so it is left alone.
            if graceful {
                for (_, run) in targets { run.task.cancel() }
            }
        }
    }

    private func logRestart(_ plan: Machine.RestartPlan) {
        let spec = self.supervisor.children[plan.cause]
        var metadata: Logger.Metadata = [
            "child": .string(spec.name),
            "delay": .stringConvertible(plan.delay),
            "restart_count": .stringConvertible(self.machine.restartCount(of: plan.cause)),
        ]
        if plan.restart.count > 1 {
            metadata["restarting_with"] = .array(plan.restart.map { .string(self.supervisor.children[$0].name) })
        }
        if let error = self.lastErrors[plan.cause] {
            metadata["error"] = .string("\(error)")
            if self.lastExitTransient[plan.cause] {
                self.supervisor.logger.warning(
                    "child lost a dependency; retrying it with backoff (not counted against the restart intensity)", metadata: metadata)
            } else {
                self.supervisor.logger.error("child failed; restarting it", metadata: metadata)
            }
        } else {
            self.supervisor.logger.warning("child returned; restarting it", metadata: metadata)
        }
    }

    private func publishStatus() {
        let children = self.supervisor.children.indices.map { index -> SupervisorStatus.Child in
            let state: SupervisorStatus.Child.State
            let stopping = self.supervisorState != .running  // children were (or are being) stopped by us
            switch self.machine.state(of: index) {
            case .running: state = stopping ? .stopped : .running
            case .restarting: state = stopping ? .stopped : .restarting
            case .stopped: state = .stopped
            case .failed: state = .failed
            case .idle, nil: state = .idle
            }
            let spec = self.supervisor.children[index]
            return SupervisorStatus.Child(
                name: spec.name, restart: spec.restart, state: state,
                restartCount: self.machine.restartCount(of: index),
                lastError: self.lastErrors[index].map { "\($0)" }, nested: nil
            )
        }
        let status = SupervisorStatus(name: self.supervisor.configuration.name, state: self.supervisorState, children: children)
        self.supervisor.statusBox.withLock { $0 = status }
    }
}
