import Supervision
import Testing

@Suite struct PromiseTests {
    @Test func everyWaiterGetsTheFirstValueEarlyOrLate() async {
        let promise = Promise<Int>()
        async let early = promise.wait()
        #expect(promise.complete(7))
        #expect(!promise.complete(8))  // only the first completion counts
        #expect(await early == 7)
        #expect(await promise.wait() == 7)
        #expect(promise.value == 7)
    }

    @Test func aCancelledWaiterReturnsNilAtOnce() async {
        let promise = Promise<Int>()
        let waiter = Task { await promise.wait() }
        waiter.cancel()
        #expect(await waiter.value == nil)
        #expect(promise.value == nil)
    }

    @Test func waitingWithATimeoutGivesUpWithoutAValue() async {
        let promise = Promise<String>()
        let started = ContinuousClock.now
        #expect(await promise.wait(timeout: .milliseconds(20)) == nil)
        #expect(ContinuousClock.now - started < .seconds(10))
        promise.complete("late")
        #expect(await promise.wait(timeout: .milliseconds(20)) == "late")
    }

    @Test func aPromiseOfAnOptionalTellsNilFromNotYet() async {
        let promise = Promise<Int?>()
        #expect(promise.value == nil)  // not completed
        promise.complete(nil)
        let value: Int?? = promise.value
        #expect(value == .some(nil))  // completed with nil
        #expect(await promise.wait() == .some(nil))
    }

    @Test func aOneShotSignalIsAPromiseWithoutAValue() async {
        let signal = OneShotSignal()
        #expect(!signal.isRaised)
        #expect(await signal.wait(timeout: .milliseconds(10)) == false)
        signal.raise()
        signal.raise()
        #expect(signal.isRaised)
        #expect(await signal.wait())
    }
}

@Suite struct WithTimeoutTests {
    @Test func returnsTheResultOfAnOperationThatFinishesInTime() async throws {
        #expect(try await withTimeout(.seconds(30)) { 42 } == 42)
    }

    @Test func cancelsAnOperationThatOverrunsAndThrows() async {
        let stopped = OneShotSignal()
        let error = await #expect(throws: TimeoutError.self) {
            try await withTimeout(.milliseconds(20)) {
                // Runs until cancelled; the timeout must cancel it.
                _ = await Promise<Void>().wait()
                stopped.raise()
            }
        }
        #expect(error?.timeout == .milliseconds(20))
        #expect(stopped.isRaised, "the operation must have been cancelled and finished before withTimeout returned")
    }

    @Test func passesOnTheOperationsOwnError() async {
        struct Boom: Error {}
        await #expect(throws: Boom.self) { try await withTimeout(.seconds(30)) { () async throws -> Int in throw Boom() } }
    }
}
