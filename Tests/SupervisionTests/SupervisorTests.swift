import Logging
import MetricsTestKit
import ServiceLifecycle
import Testing
import VigilTesting

@testable import Supervision

@Suite("Supervisor")
struct SupervisorTests {
    @Test func aFailingChildIsRestartedLoggedAndCountedThenRuns() async throws {
        let recorder = EventRecorder<MockService.Event>()
        let metrics = TestMetrics()
        let (logger, logs) = capturingLogger()
        let flaky = MockService(name: "flaky", events: recorder, failures: 2)
        let supervisor = Supervisor(
            configuration: fastConfiguration("root"),
            children: [
                ChildSpec(name: "flaky", service: flaky),
                ChildSpec(name: "steady", service: MockService(name: "steady", events: recorder)),
            ],
            logger: logger,
            metricsFactory: metrics
        )
        let run = Task { try await supervisor.run() }
        #expect(await eventually { supervisor.status.children[0].state == .running && flaky.runs == 3 })
        let status = supervisor.status
        #expect(status.isHealthy)
        #expect(status.children[0].restartCount == 2)
        #expect(status.children[0].lastError?.contains("flaky failed on purpose (run 2)") == true)
        #expect(status.children[1].restartCount == 0)
        #expect(recorder.count(of: .started("steady")) == 1)

        let counter = try metrics.expectCounter("vigil_supervisor_restarts_total", [("supervisor", "root"), ("child", "flaky")])
        #expect(counter.totalValue == 2)
        let restartLogs = logs.current.filter { $0.message == "child failed; restarting it" }
        #expect(restartLogs.count == 2)
        #expect(restartLogs.allSatisfy { $0.metadata["child"] == "flaky" && $0.metadata["supervisor"] == "root" })
        #expect(restartLogs.last?.metadata["error"]?.description.contains("flaky failed on purpose (run 2)") == true)

        run.cancel()
        try await run.value
        #expect(supervisor.status.state == .stopped)
        #expect(Array(recorder.startsAndStops.suffix(2)) == ["stop steady", "stop flaky"])
    }

    @Test func oneForAllRestartsSiblingsStoppingThemInReverseOrder() async throws {
        let recorder = EventRecorder<MockService.Event>()
        let supervisor = Supervisor(
            configuration: fastConfiguration("all", strategy: .oneForAll),
            children: [
                // Readiness makes the start order observable (with .immediate, tasks may begin in any order).
                ChildSpec(name: "a", readiness: .signalled(timeout: .seconds(10)), service: MockService(name: "a", events: recorder)),
                ChildSpec(name: "b", readiness: .signalled(timeout: .seconds(10)), service: MockService(name: "b", events: recorder)),
                // c fails once, after a and b started: both are stopped (b first) and all restart in order.
                ChildSpec(name: "c", service: MockService(name: "c", events: recorder, failures: 1)),
            ],
            logger: capturingLogger().0
        )
        let run = Task { try await supervisor.run() }
        #expect(await eventually { recorder.count(of: .started("c")) == 2 && supervisor.status.isHealthy })
        #expect(recorder.startsAndStops == ["start a", "start b", "start c", "stop b", "stop a", "start a", "start b", "start c"])
        run.cancel()
        try await run.value
    }

    @Test func nestedSupervisorsShutDownGracefullyInReverseOrderFromAServiceGroup() async throws {
        let recorder = EventRecorder<MockService.Event>()
        let (logger, _) = capturingLogger()
        let inner = Supervisor(
            configuration: fastConfiguration("inner"),
            children: [
                ChildSpec(name: "flaky", service: MockService(name: "inner.flaky", events: recorder, failures: 2)),
                ChildSpec(name: "steady", service: MockService(name: "inner.steady", events: recorder)),
            ],
            logger: logger
        )
        let root = Supervisor(
            configuration: fastConfiguration("root", strategy: .restForOne),
            children: [
                ChildSpec(name: "inner", readiness: .signalled(timeout: .seconds(10)), service: inner),
                ChildSpec(name: "sibling", service: MockService(name: "sibling", events: recorder)),
            ],
            logger: logger
        )
        let group = ServiceGroup(services: [root], logger: logger)
        let run = Task { try await group.run() }
        #expect(
            await eventually {
                root.status.isHealthy && inner.status.children[0].restartCount == 2
                    && recorder.count(of: .started("inner.flaky")) == 3 && recorder.count(of: .started("sibling")) == 1
            })
        // The inner supervisor signals readiness once its children started, so the sibling starts after them.
        let order = recorder.startsAndStops
        let steadyStarted = try #require(order.firstIndex(of: "start inner.steady"))
        let siblingStarted = try #require(order.firstIndex(of: "start sibling"))
        #expect(steadyStarted < siblingStarted)
        let status = root.status
        #expect(status.children[0].nested?.children[0].restartCount == 2)
        #expect(status.children[0].restartCount == 0)  // the inner supervisor absorbed its child's failures

        await group.triggerGracefulShutdown()
        try await run.value
        #expect(Array(recorder.startsAndStops.suffix(3)) == ["stop sibling", "stop inner.steady", "stop inner.flaky"])
        #expect(root.status.state == .stopped)
        #expect(inner.status.state == .stopped)
    }

    @Test func exceedingIntensityFailsTheSupervisorAndEscalatesToItsParent() async throws {
        let recorder = EventRecorder<MockService.Event>()
        let (logger, logs) = capturingLogger()
        let inner = Supervisor(
            configuration: fastConfiguration("inner", maxRestarts: 2),
            children: [ChildSpec(name: "bad", service: MockService(name: "bad", events: recorder, failures: .max))],
            logger: logger
        )
        let root = Supervisor(
            configuration: fastConfiguration("root", maxRestarts: 0),
            children: [
                ChildSpec(name: "inner", service: inner),
                ChildSpec(name: "sibling", service: MockService(name: "sibling", events: recorder)),
            ],
            logger: logger
        )
        let error = await #expect(throws: SupervisorError.self) { try await root.run() }
        #expect(error?.code == .restartIntensityExceeded)
        #expect(error?.supervisor == "root")
        #expect(error?.child == "inner")
        let innerError = error?.underlying as? SupervisorError
        #expect(innerError?.supervisor == "inner")
        #expect(innerError?.child == "bad")
        #expect(innerError?.underlying as? MockServiceError == MockServiceError.failedOnPurpose(name: "bad", run: 3))
        #expect(recorder.count(of: .started("bad")) == 3)  // first run + 2 restarts, the third failure escalates
        #expect(recorder.all.contains(.stopped("sibling")))
        #expect(root.status.state == .failed)
        #expect(logs.current.contains { $0.message.contains("restart intensity exceeded") && $0.metadata["supervisor"] == "inner" })
    }

    @Test func aParentRestartsAnEscalatingChildSupervisor() async throws {
        let recorder = EventRecorder<MockService.Event>()
        let (logger, _) = capturingLogger()
        // The inner supervisor gives up on the first failure; its parent runs it again, and
        // the second run finds a healthy child.
        let inner = Supervisor(
            configuration: fastConfiguration("inner", maxRestarts: 0),
            children: [ChildSpec(name: "once", service: MockService(name: "once", events: recorder, failures: 1))],
            logger: logger
        )
        let root = Supervisor(
            configuration: fastConfiguration("root"),
            children: [ChildSpec(name: "inner", service: inner)],
            logger: logger
        )
        let run = Task { try await root.run() }
        // "running" means the child's task exists; its body may not have begun yet, so wait for that too.
        #expect(await eventually { root.status.isHealthy && root.status.children[0].restartCount == 1 && recorder.count(of: .started("once")) == 2 })
        #expect(root.status.children[0].lastError?.contains("restartIntensityExceeded") == true)
        #expect(root.status.children[0].nested?.state == .running)
        run.cancel()
        try await run.value
        #expect(recorder.startsAndStops.last == "stop once")
    }

    @Test func aChildThatWillNotStopIsAbandonedAfterItsTimeout() async throws {
        let recorder = EventRecorder<MockService.Event>()
        let gate = OneShotSignal()
        let (logger, logs) = capturingLogger()
        let supervisor = Supervisor(
            configuration: fastConfiguration("root"),
            children: [
                ChildSpec(name: "first", service: MockService(name: "first", events: recorder)),
                ChildSpec(
                    name: "stuck", shutdownTimeout: .milliseconds(50),
                    service: MockService(name: "stuck", events: recorder, behaviour: .ignoreStopUntil(gate))),
            ],
            logger: logger
        )
        let done = Locked(false)
        let run = Task {
            try await supervisor.run()
            done.update { $0 = true }
        }
        #expect(await recorder.wait(for: .started("stuck")))
        run.cancel()
        // Bounded: 50 ms timeout for the stuck child, then the first child stops at once.
        #expect(await eventually(timeout: .seconds(5)) { done.current })
        #expect(recorder.all.contains(.stopped("first")))
        #expect(!recorder.all.contains(.stopped("stuck")))
        #expect(logs.current.contains { $0.level == .error && $0.metadata["child"] == "stuck" })
        gate.raise()
        try await run.value
    }

    @Test func gracefulShutdownThatTimesOutFallsBackToCancellation() async throws {
        let recorder = EventRecorder<MockService.Event>()
        let gate = OneShotSignal()
        let supervisor = Supervisor(
            configuration: fastConfiguration("root"),
            children: [
                ChildSpec(name: "first", service: MockService(name: "first", events: recorder)),
                ChildSpec(
                    name: "stuck", shutdownTimeout: .milliseconds(50),
                    service: MockService(name: "stuck", events: recorder, behaviour: .ignoreStopUntil(gate))),
            ],
            logger: capturingLogger().0
        )
        let group = ServiceGroup(services: [supervisor], logger: capturingLogger().0)
        let run = Task { try await group.run() }
        #expect(await recorder.wait { $0.contains(.started("stuck")) && $0.contains(.started("first")) })
        await group.triggerGracefulShutdown()
        try await run.value  // returns after 50 ms + 100 ms grace, with "stuck" abandoned
        #expect(recorder.startsAndStops.last == "stop first")
        gate.raise()
    }

    @Test func orderedStartWaitsForReadiness() async throws {
        let recorder = EventRecorder<MockService.Event>()
        let listenerReady = OneShotSignal()
        let supervisor = Supervisor(
            configuration: fastConfiguration("root"),
            children: [
                ChildSpec(
                    name: "listener", readiness: .signalled(timeout: .seconds(10)),
                    service: MockService(name: "listener", events: recorder, readyGate: listenerReady)
                ),
                ChildSpec(name: "worker", service: MockService(name: "worker", events: recorder)),
            ],
            logger: capturingLogger().0
        )
        let run = Task { try await supervisor.run() }
        #expect(await recorder.wait(for: .started("listener")))
        #expect(recorder.count(of: .started("worker")) == 0)  // the listener is held before readiness
        listenerReady.raise()
        #expect(await recorder.wait(for: .started("worker")))
        #expect(Array(recorder.all.prefix(3)) == [.started("listener"), .ready("listener"), .started("worker")])
        run.cancel()
        try await run.value
    }

    @Test func aTransientChildThatFinishesNormallyStaysStopped() async throws {
        let recorder = EventRecorder<MockService.Event>()
        let done = MockService(name: "oneshot", events: recorder, behaviour: .finish)
        let supervisor = Supervisor(
            configuration: fastConfiguration("root"),
            children: [
                ChildSpec(name: "oneshot", restart: .transient, service: done),
                ChildSpec(name: "steady", service: MockService(name: "steady", events: recorder)),
            ],
            logger: capturingLogger().0
        )
        let run = Task { try await supervisor.run() }
        #expect(await eventually { supervisor.status.children[0].state == .stopped })
        #expect(supervisor.status.children[0].restartCount == 0)
        #expect(supervisor.status.isHealthy)
        run.cancel()
        try await run.value
        #expect(done.runs == 1)
    }
}
