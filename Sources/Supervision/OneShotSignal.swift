import Synchronization

/// A flag that is raised once and can be awaited, with or without a deadline.
///
/// The supervisor uses it for "this child has exited" and "this child is ready". Waiting is
/// cancellation-aware: a cancelled waiter is resumed with `false` and its continuation removed,
/// so a wait never outlives its timeout.
public final class OneShotSignal: Sendable {
    private struct State {
        var isRaised = false
        var nextWaiter: UInt64 = 0
        var waiters: [UInt64: CheckedContinuation<Bool, Never>] = [:]
    }

    private let state = Mutex(State())

    /// Creates a lowered flag.
    public init() {}

    /// Whether ``raise()`` has been called.
    public var isRaised: Bool { self.state.withLock { $0.isRaised } }

    /// Raises the flag and wakes every waiter; later calls do nothing.
    public func raise() {
        let waiters = self.state.withLock { state -> [CheckedContinuation<Bool, Never>] in
            guard !state.isRaised else { return [] }
            state.isRaised = true
            defer { state.waiters.removeAll() }
            return Array(state.waiters.values)
        }
        for waiter in waiters { waiter.resume(returning: true) }
    }

    /// Waits until raised (`true`) or until the calling task is cancelled (`false`).
    public func wait() async -> Bool {
        let id = self.state.withLock { state -> UInt64 in
            defer { state.nextWaiter += 1 }
            return state.nextWaiter
        }
        return await withTaskCancellationHandler {
            await withCheckedContinuation { (continuation: CheckedContinuation<Bool, Never>) in
                let outcome: Bool? = self.state.withLock { state in
                    if state.isRaised { return true }
                    // The cancel handler may already have run (and found nothing to remove).
                    if Task.isCancelled { return false }
                    state.waiters[id] = continuation
                    return nil
                }
                if let outcome { continuation.resume(returning: outcome) }
            }
        } onCancel: {
            let waiter = self.state.withLock { $0.waiters.removeValue(forKey: id) }
            waiter?.resume(returning: false)
        }
    }

    /// Waits until raised (`true`) or until `timeout` has passed or the task is cancelled (`false`).
    public func wait(timeout: Duration) async -> Bool {
        if self.isRaised { return true }
        return await withTaskGroup(of: Bool.self) { group in
            group.addTask { await self.wait() }
            group.addTask {
                try? await Task.sleep(for: timeout)
                return false
            }
            let first = await group.next() ?? false
            group.cancelAll()
            return first || self.isRaised
        }
    }
}
