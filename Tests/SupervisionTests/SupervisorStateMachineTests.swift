import Testing

@testable import Supervision

@Suite("SupervisorStateMachine")
struct SupervisorStateMachineTests {
    typealias Machine = SupervisorStateMachine<FakeInstant>

    func makeMachine(
        _ strategy: SupervisionStrategy,
        restarts: [RestartType] = [.permanent, .permanent, .permanent],
        intensity: RestartIntensity = .init(maxRestarts: 3, period: .seconds(5)),
        backoff: RestartBackoff = .init(base: .milliseconds(100), maximum: .seconds(1), multiplier: 2, jitter: 0.5, resetAfter: .seconds(30)),
        jitter: Double = 0
    ) -> Machine {
        let names = ["a", "b", "c", "d"]
        return Machine(
            children: restarts.enumerated().map { .init(name: names[$0.offset], restart: $0.element) },
            strategy: strategy,
            intensity: intensity,
            backoff: backoff,
            jitterSource: { jitter }
        )
    }

    func plan(_ action: Machine.Action) -> Machine.RestartPlan? {
        if case .scheduleRestart(let plan) = action { return plan }
        return nil
    }

    @Test func startsEveryChildInOrder() {
        var machine = self.makeMachine(.oneForOne)
        #expect(
            machine.start(now: .zero) == .start([.init(child: 0, generation: 1), .init(child: 1, generation: 1), .init(child: 2, generation: 1)]))
        #expect(machine.start(now: .zero) == .none)
    }

    @Test func oneForOneRestartsOnlyTheFailedChild() throws {
        var machine = self.makeMachine(.oneForOne)
        _ = machine.start(now: .zero)
        let plan = try #require(self.plan(machine.childExited(1, generation: 1, failed: true, now: .zero)))
        #expect(plan.stop == [])
        #expect(plan.restart == [1])
        #expect(machine.state(of: 0) == .running(generation: 1))
        #expect(machine.state(of: 1) == .restarting(timer: plan.timer))
        #expect(machine.restartTimerFired(plan.timer, now: .zero) == .start([.init(child: 1, generation: 2)]))
        #expect(machine.restartCount(of: 1) == 1)
        #expect(machine.restartCount(of: 0) == 0)
    }

    @Test func oneForAllStopsSiblingsInReverseAndRestartsAllInOrder() throws {
        var machine = self.makeMachine(.oneForAll)
        _ = machine.start(now: .zero)
        let plan = try #require(self.plan(machine.childExited(1, generation: 1, failed: true, now: .zero)))
        #expect(plan.cause == 1)
        #expect(plan.stop == [2, 0])
        #expect(plan.restart == [0, 1, 2])
        // The stopped siblings' own exit reports are stale now.
        #expect(machine.childExited(2, generation: 1, failed: false, now: .zero) == .none)
        #expect(
            machine.restartTimerFired(plan.timer, now: .zero)
                == .start([
                    .init(child: 0, generation: 2), .init(child: 1, generation: 2), .init(child: 2, generation: 2),
                ]))
    }

    @Test func restForOneRestartsTheFailedChildAndThoseStartedAfterIt() throws {
        var machine = self.makeMachine(.restForOne, restarts: [.permanent, .permanent, .permanent, .permanent])
        _ = machine.start(now: .zero)
        let plan = try #require(self.plan(machine.childExited(1, generation: 1, failed: true, now: .zero)))
        #expect(plan.stop == [3, 2])
        #expect(plan.restart == [1, 2, 3])
        #expect(machine.state(of: 0) == .running(generation: 1))
    }

    @Test func aLaterGroupRestartSupersedesAPendingOne() throws {
        var machine = self.makeMachine(.restForOne)
        _ = machine.start(now: .zero)
        let first = try #require(self.plan(machine.childExited(1, generation: 1, failed: true, now: .zero)))
        let second = try #require(self.plan(machine.childExited(0, generation: 1, failed: true, now: .zero)))
        #expect(second.stop == [])  // b and c are not running: nothing to stop
        #expect(second.restart == [0, 1, 2])
        #expect(machine.restartTimerFired(first.timer, now: .zero) == .none)
        #expect(
            machine.restartTimerFired(second.timer, now: .zero)
                == .start([
                    .init(child: 0, generation: 2), .init(child: 1, generation: 2), .init(child: 2, generation: 2),
                ]))
    }

    @Test func restartTypesDecideWhetherAnExitRestarts() {
        var machine = self.makeMachine(.oneForOne, restarts: [.permanent, .transient, .transient, .temporary])
        _ = machine.start(now: .zero)
        #expect(self.plan(machine.childExited(0, generation: 1, failed: false, now: .zero)) != nil)  // permanent: even a normal exit
        #expect(machine.childExited(1, generation: 1, failed: false, now: .zero) == .none)  // transient, normal exit
        #expect(machine.state(of: 1) == .stopped)
        #expect(self.plan(machine.childExited(2, generation: 1, failed: true, now: .zero)) != nil)  // transient, error
        #expect(machine.childExited(3, generation: 1, failed: true, now: .zero) == .none)  // temporary, error
        #expect(machine.state(of: 3) == .failed)
    }

    @Test func groupRestartDropsRunningTemporaryChildren() throws {
        var machine = self.makeMachine(.oneForAll, restarts: [.permanent, .temporary, .permanent])
        _ = machine.start(now: .zero)
        let plan = try #require(self.plan(machine.childExited(2, generation: 1, failed: true, now: .zero)))
        #expect(plan.stop == [1, 0])
        #expect(plan.restart == [0, 2])
        #expect(machine.state(of: 1) == .failed)
    }

    @Test func exceedingTheIntensityEscalates() throws {
        var machine = self.makeMachine(.oneForOne, intensity: .init(maxRestarts: 3, period: .seconds(5)))
        _ = machine.start(now: .zero)
        var now = FakeInstant.zero
        var generation = 1
        for _ in 0..<3 {
            let plan = try #require(self.plan(machine.childExited(0, generation: generation, failed: true, now: now)))
            _ = machine.restartTimerFired(plan.timer, now: now)
            generation += 1
            now = now.advanced(by: .seconds(1))
        }
        #expect(machine.childExited(0, generation: generation, failed: true, now: now) == .escalate(cause: 0, stop: [2, 1]))
        #expect(machine.shutdown() == .none)
        #expect(machine.childExited(1, generation: 1, failed: true, now: now) == .none)
    }

    @Test func dependencyFailuresRestartWithCappedBackoffButNeverEscalate() throws {
        // An outage: every stage keeps failing to reach the database, many times within
        // the period. That is waited out with backoff, never escalated.
        var machine = self.makeMachine(.oneForOne, intensity: .init(maxRestarts: 3, period: .seconds(5)))
        _ = machine.start(now: .zero)
        var now = FakeInstant.zero
        var delays: [Duration] = []
        for generation in 1...50 {
            for child in 0..<3 {
                let plan = try #require(self.plan(machine.childExited(child, generation: generation, failed: true, transient: true, now: now)))
                if child == 0 { delays.append(plan.delay) }
                _ = machine.restartTimerFired(plan.timer, now: now)
            }
            now = now.advanced(by: .milliseconds(10))
        }
        #expect(delays.prefix(4) == [.milliseconds(100), .milliseconds(200), .milliseconds(400), .milliseconds(800)])
        #expect(delays.last == .seconds(1), "the backoff is capped at its maximum")
        // A real crash still counts from zero: three are allowed, the fourth escalates.
        for generation in 51...53 {
            let plan = try #require(self.plan(machine.childExited(0, generation: generation, failed: true, now: now)))
            _ = machine.restartTimerFired(plan.timer, now: now)
        }
        #expect(machine.childExited(0, generation: 54, failed: true, now: now) == .escalate(cause: 0, stop: [2, 1]))
    }

    @Test func aTransientFlagOnANormalReturnIsAnOrdinaryRestart() throws {
        var machine = self.makeMachine(.oneForOne, intensity: .init(maxRestarts: 0, period: .seconds(5)))
        _ = machine.start(now: .zero)
        #expect(machine.childExited(0, generation: 1, failed: false, transient: true, now: .zero) == .escalate(cause: 0, stop: [2, 1]))
    }

    @Test func restartsOutsideThePeriodDoNotCount() throws {
        var machine = self.makeMachine(.oneForOne, intensity: .init(maxRestarts: 1, period: .seconds(5)))
        _ = machine.start(now: .zero)
        var now = FakeInstant.zero
        for generation in 1...5 {
            let plan = try #require(self.plan(machine.childExited(0, generation: generation, failed: true, now: now)))
            _ = machine.restartTimerFired(plan.timer, now: now)
            now = now.advanced(by: .seconds(6))
        }
    }

    @Test func zeroIntensityEscalatesOnTheFirstFailure() {
        var machine = self.makeMachine(.oneForOne, intensity: .init(maxRestarts: 0, period: .seconds(5)))
        _ = machine.start(now: .zero)
        #expect(machine.childExited(1, generation: 1, failed: true, now: .zero) == .escalate(cause: 1, stop: [2, 0]))
    }

    @Test func backoffGrowsExponentiallyUpToTheMaximumAndResetsAfterAStableRun() throws {
        var machine = self.makeMachine(.oneForOne, intensity: .init(maxRestarts: 100, period: .seconds(5)))
        _ = machine.start(now: .zero)
        var delays: [Duration] = []
        var now = FakeInstant.zero
        for generation in 1...6 {
            let plan = try #require(self.plan(machine.childExited(0, generation: generation, failed: true, now: now)))
            delays.append(plan.delay)
            now = now.advanced(by: plan.delay)
            _ = machine.restartTimerFired(plan.timer, now: now)
        }
        #expect(delays == [.milliseconds(100), .milliseconds(200), .milliseconds(400), .milliseconds(800), .seconds(1), .seconds(1)])
        now = now.advanced(by: .seconds(31))  // a stable run resets the backoff
        let plan = try #require(self.plan(machine.childExited(0, generation: 7, failed: true, now: now)))
        #expect(plan.delay == .milliseconds(100))
    }

    @Test(arguments: [0.0, 0.25, 0.5, 0.999])
    func jitterStaysWithinItsBounds(sample: Double) throws {
        var machine = self.makeMachine(.oneForOne, jitter: sample)
        _ = machine.start(now: .zero)
        let plan = try #require(self.plan(machine.childExited(0, generation: 1, failed: true, now: .zero)))
        // jitter 0.5 of 100 ms: within [50 ms, 100 ms], and exactly 100 ms * (1 - 0.5 * sample).
        #expect(plan.delay >= .milliseconds(50) && plan.delay <= .milliseconds(100))
        let expected = 0.1 * (1 - 0.5 * sample)
        #expect(abs(RestartBackoff.seconds(plan.delay) - expected) < 1e-6)
    }

    @Test func backoffNeverExceedsTheMaximumNorTraps() {
        let backoff = RestartBackoff(base: .seconds(1), maximum: .seconds(Int64.max / 2), multiplier: 10, jitter: 0)
        #expect(backoff.delay(attempt: 10_000, jitterSample: .nan) > .zero)
        #expect(RestartBackoff.none.delay(attempt: 5, jitterSample: 0.7) == .zero)
    }

    @Test func shutdownStopsRunningChildrenInReverseOrder() throws {
        var machine = self.makeMachine(.oneForOne)
        _ = machine.start(now: .zero)
        let plan = try #require(self.plan(machine.childExited(1, generation: 1, failed: true, now: .zero)))
        #expect(machine.shutdown() == .shutdown(stop: [2, 0]))
        #expect(machine.restartTimerFired(plan.timer, now: .zero) == .none)
        #expect(machine.shutdown() == .none)
    }
}
