import Supervision
import Synchronization

/// Events in the order they happened, which a test can await instead of sleeping: a mock
/// service records into one, the test waits until the events it needs are there.
public final class EventRecorder<Event: Sendable & Equatable>: Sendable {
    private struct Waiter {
        var condition: @Sendable ([Event]) -> Bool
        var promise: Promise<Void>
    }

    private struct State {
        var events: [Event] = []
        var nextWaiter: UInt64 = 0
        var waiters: [UInt64: Waiter] = [:]
    }

    private let state = Mutex(State())

    /// Creates an empty recorder.
    public init() {}

    /// Appends `event` and wakes the waiters whose condition now holds.
    public func record(_ event: Event) {
        let satisfied = self.state.withLock { state -> [Promise<Void>] in
            state.events.append(event)
            let events = state.events
            let done = state.waiters.filter { $0.value.condition(events) }
            for id in done.keys { state.waiters.removeValue(forKey: id) }
            return done.values.map(\.promise)
        }
        for promise in satisfied { promise.complete(()) }
    }

    /// Every event so far, oldest first.
    public var all: [Event] { self.state.withLock { $0.events } }

    /// How many times `event` has been recorded.
    public func count(of event: Event) -> Int { self.state.withLock { $0.events.filter { $0 == event }.count } }

    /// Waits until `condition` holds of the events so far (at once if it already does);
    /// returns `false` when `timeout` passes or the task is cancelled first.
    public func wait(timeout: Duration = .seconds(20), until condition: @escaping @Sendable ([Event]) -> Bool) async -> Bool {
        let promise = Promise<Void>()
        let id = self.state.withLock { state -> UInt64? in
            if condition(state.events) { return nil }
            defer { state.nextWaiter += 1 }
            state.waiters[state.nextWaiter] = Waiter(condition: condition, promise: promise)
            return state.nextWaiter
        }
        guard let id else { return true }
        let held = await promise.wait(timeout: timeout) != nil
        if !held { _ = self.state.withLock { $0.waiters.removeValue(forKey: id) } }
        return held
    }

    /// Waits until `event` has been recorded `times` times in all.
    public func wait(for event: Event, times: Int = 1, timeout: Duration = .seconds(20)) async -> Bool {
        await self.wait(timeout: timeout) { events in events.filter { $0 == event }.count >= times }
    }
}
