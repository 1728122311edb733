import Logging
import MetricsTestKit
import ServiceLifecycle
import Testing
@testable import Supervision

@Suite("Supervisor")
struct SupervisorTests {
    @Test func aFailingChildIsRestartedLoggedAndCountedThenRuns() async throws {
        let recorder = Recorder()
        let metrics = TestMetrics()
        let (logger, logs) = capturingLogger()
        let flaky = FlakyService(name: "flaky", failures: 2, recorder: recorder)
        let supervisor = Supervisor(
            configuration: fastConfiguration("root"),
            children: [
                ChildSpec(name: "flaky", service: flaky),
                ChildSpec(name: "steady", service: FlakyService(name: "steady", recorder: recorder)),
            ],
            logger: logger,
            metricsFactory: metrics
        )
        let run = Task { try await supervisor.run() }
        #expect(await eventually { supervisor.status.children[0].state == .running && flaky.runs.current == 3 })
        let status = supervisor.status
        #expect(status.isHealthy)
        #expect(status.children[0].restartCount == 2)
        #expect(status.children[0].lastError?.contains("flaky boom 2") == true)
        #expect(status.children[1].restartCount == 0)
        #expect(recorder.count(of: "start steady") == 1)

        let counter = try metrics.expectCounter("vigil_supervisor_restarts_total", [("supervisor", "root"), ("child", "flaky")])
        #expect(counter.totalValue == 2)
        let restartLogs = logs.current.filter { $0.message == "child failed; restarting it" }
        #expect(restartLogs.count == 2)
        #expect(restartLogs.allSatisfy { $0.metadata["child"] == "flaky" && $0.metadata["supervisor"] == "root" })
        #expect(restartLogs.last?.metadata["error"]?.description.contains("flaky boom 2") == true)

        run.cancel()
        try await run.value
        #expect(supervisor.status.state == .stopped)
        #expect(Array(recorder.all.suffix(2)) == ["stop steady", "stop flaky"])
    }

    @Test func oneForAllRestartsSiblingsStoppingThemInReverseOrder() async throws {
        let recorder = Recorder()
        let supervisor = Supervisor(
            configuration: fastConfiguration("all", strategy: .oneForAll),
            children: [
                // Readiness makes the start order observable (with .immediate, tasks may begin in any order).
                ChildSpec(name: "a", readiness: .signalled(timeout: .seconds(10)), service: FlakyService(name: "a", recorder: recorder)),
                ChildSpec(name: "b", readiness: .signalled(timeout: .seconds(10)), service: FlakyService(name: "b", recorder: recorder)),
                // c fails once, after a and b started: both are stopped (b first) and all restart in order.
                ChildSpec(name: "c", service: FlakyService(name: "c", failures: 1, recorder: recorder)),
            ],
            logger: capturingLogger().0
        )
        let run = Task { try await supervisor.run() }
        #expect(await eventually { recorder.count(of: "start c") == 2 && supervisor.status.isHealthy })
        #expect(recorder.all == ["start a", "start b", "start c", "stop b", "stop a", "start a", "start b", "start c"])
        run.cancel()
        try await run.value
    }

    @Test func nestedSupervisorsShutDownGracefullyInReverseOrderFromAServiceGroup() async throws {
        let recorder = Recorder()
        let (logger, _) = capturingLogger()
        let inner = Supervisor(
            configuration: fastConfiguration("inner"),
            children: [
                ChildSpec(name: "flaky", service: FlakyService(name: "inner.flaky", failures: 2, recorder: recorder)),
                ChildSpec(name: "steady", service: FlakyService(name: "inner.steady", recorder: recorder)),
            ],
            logger: logger
        )
        let root = Supervisor(
            configuration: fastConfiguration("root", strategy: .restForOne),
            children: [
                ChildSpec(name: "inner", readiness: .signalled(timeout: .seconds(10)), service: inner),
                ChildSpec(name: "sibling", service: FlakyService(name: "sibling", recorder: recorder)),
            ],
            logger: logger
        )
        let group = ServiceGroup(services: [root], logger: logger)
        let run = Task { try await group.run() }
        #expect(await eventually {
            root.status.isHealthy && inner.status.children[0].restartCount == 2
                && recorder.count(of: "start inner.flaky") == 3 && recorder.count(of: "start sibling") == 1
        })
        // The inner supervisor signals readiness once its children started, so the sibling starts after them.
        let order = recorder.all
        let steadyStarted = try #require(order.firstIndex(of: "start inner.steady"))
        let siblingStarted = try #require(order.firstIndex(of: "start sibling"))
        #expect(steadyStarted < siblingStarted)
        let status = root.status
        #expect(status.children[0].nested?.children[0].restartCount == 2)
        #expect(status.children[0].restartCount == 0)  // the inner supervisor absorbed its child's failures

        await group.triggerGracefulShutdown()
        try await run.value
        #expect(Array(recorder.all.suffix(3)) == ["stop sibling", "stop inner.steady", "stop inner.flaky"])
        #expect(root.status.state == .stopped)
        #expect(inner.status.state == .stopped)
    }

    @Test func exceedingIntensityFailsTheSupervisorAndEscalatesToItsParent() async throws {
        let recorder = Recorder()
        let (logger, logs) = capturingLogger()
        let inner = Supervisor(
            configuration: fastConfiguration("inner", maxRestarts: 2),
            children: [ChildSpec(name: "bad", service: FlakyService(name: "bad", failures: .max, recorder: recorder))],
            logger: logger
        )
        let root = Supervisor(
            configuration: fastConfiguration("root", maxRestarts: 0),
            children: [
                ChildSpec(name: "inner", service: inner),
                ChildSpec(name: "sibling", service: FlakyService(name: "sibling", recorder: recorder)),
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
        #expect((innerError?.underlying as? TestError)?.message == "bad boom 3")
        #expect(recorder.count(of: "start bad") == 3)  // first run + 2 restarts, the third failure escalates
        #expect(recorder.all.contains("stop sibling"))
        #expect(root.status.state == .failed)
        #expect(logs.current.contains { $0.message.contains("restart intensity exceeded") && $0.metadata["supervisor"] == "inner" })
    }

    @Test func aParentRestartsAnEscalatingChildSupervisor() async throws {
        let recorder = Recorder()
        let (logger, _) = capturingLogger()
        // The inner supervisor gives up on the first failure; its parent runs it again, and
        // the second run finds a healthy child.
        let inner = Supervisor(
            configuration: fastConfiguration("inner", maxRestarts: 0),
            children: [ChildSpec(name: "once", service: FlakyService(name: "once", failures: 1, recorder: recorder))],
            logger: logger
        )
        let root = Supervisor(
            configuration: fastConfiguration("root"),
            children: [ChildSpec(name: "inner", service: inner)],
            logger: logger
        )
        let run = Task { try await root.run() }
        // "running" means the child's task exists; its body may not have begun yet, so wait for that too.
        #expect(await eventually { root.status.isHealthy && root.status.children[0].restartCount == 1 && recorder.count(of: "start once") == 2 })
        #expect(root.status.children[0].lastError?.contains("restartIntensityExceeded") == true)
        #expect(root.status.children[0].nested?.state == .running)
        run.cancel()
        try await run.value
        #expect(recorder.all.last == "stop once")
    }

    @Test func aChildThatWillNotStopIsAbandonedAfterItsTimeout() async throws {
        let recorder = Recorder()
        let gate = OneShotSignal()
        let (logger, logs) = capturingLogger()
        let supervisor = Supervisor(
            configuration: fastConfiguration("root"),
            children: [
                ChildSpec(name: "first", service: FlakyService(name: "first", recorder: recorder)),
                ChildSpec(name: "stuck", shutdownTimeout: .milliseconds(50), service: StuckService(gate: gate, recorder: recorder)),
            ],
            logger: logger
        )
        let done = Locked(false)
        let run = Task {
            try await supervisor.run()
            done.update { $0 = true }
        }
        #expect(await eventually { recorder.count(of: "start stuck") == 1 })
        run.cancel()
        // Bounded: 50 ms timeout for the stuck child, then the first child stops at once.
        #expect(await eventually(timeout: .seconds(5)) { done.current })
        #expect(recorder.all.contains("stop first"))
        #expect(!recorder.all.contains("stop stuck"))
        #expect(logs.current.contains { $0.level == .error && $0.metadata["child"] == "stuck" })
        gate.raise()
        try await run.value
    }

    @Test func gracefulShutdownThatTimesOutFallsBackToCancellation() async throws {
        let recorder = Recorder()
        let gate = OneShotSignal()
        let supervisor = Supervisor(
            configuration: fastConfiguration("root"),
            children: [
                ChildSpec(name: "first", service: FlakyService(name: "first", recorder: recorder)),
                ChildSpec(name: "stuck", shutdownTimeout: .milliseconds(50), service: StuckService(gate: gate, recorder: recorder)),
            ],
            logger: capturingLogger().0
        )
        let group = ServiceGroup(services: [supervisor], logger: capturingLogger().0)
        let run = Task { try await group.run() }
        #expect(await eventually { recorder.count(of: "start stuck") == 1 && recorder.count(of: "start first") == 1 })
        await group.triggerGracefulShutdown()
        try await run.value  // returns after 50 ms + 100 ms grace, with "stuck" abandoned
        #expect(recorder.all.last == "stop first")
        gate.raise()
    }

    @Test func orderedStartWaitsForReadiness() async throws {
        let recorder = Recorder()
        let supervisor = Supervisor(
            configuration: fastConfiguration("root"),
            children: [
                ChildSpec(
                    name: "listener", readiness: .signalled(timeout: .seconds(10)),
                    service: FlakyService(name: "listener", readyAfter: .milliseconds(30), recorder: recorder)
                ),
                ChildSpec(name: "worker", service: FlakyService(name: "worker", recorder: recorder)),
            ],
            logger: capturingLogger().0
        )
        let run = Task { try await supervisor.run() }
        #expect(await eventually { recorder.count(of: "start worker") == 1 })
        #expect(Array(recorder.all.prefix(3)) == ["start listener", "ready listener", "start worker"])
        run.cancel()
        try await run.value
    }

    @Test func aTransientChildThatFinishesNormallyStaysStopped() async throws {
        let recorder = Recorder()
        let done = FlakyService(name: "oneshot", finishNormally: true, recorder: recorder)
        let supervisor = Supervisor(
            configuration: fastConfiguration("root"),
            children: [
                ChildSpec(name: "oneshot", restart: .transient, service: done),
                ChildSpec(name: "steady", service: FlakyService(name: "steady", recorder: recorder)),
            ],
            logger: capturingLogger().0
        )
        let run = Task { try await supervisor.run() }
        #expect(await eventually { supervisor.status.children[0].state == .stopped })
        #expect(supervisor.status.children[0].restartCount == 0)
        #expect(supervisor.status.isHealthy)
        run.cancel()
        try await run.value
        #expect(done.runs.current == 1)
    }
}
