import Synchronization

/// A value delivered once that any number of tasks can await (the shape of hummingbird's
/// testing `Promise`), and the one one-shot of the package: ``OneShotSignal`` is a
/// `Promise<Void>` under the names the supervisor uses.
///
/// Waiting is cancellation-aware: a cancelled waiter gets `nil` at once and its continuation
/// is removed, so a wait never outlives its task or a ``withTimeout(_:_:)`` around it.
public final class Promise<Value: Sendable>: Sendable {
    private struct State {
        var value: Value?
        var nextWaiter: UInt64 = 0
        var waiters: [UInt64: CheckedContinuation<Value?, Never>] = [:]
    }

    private let state = Mutex(State())

    /// Creates a promise with no value yet.
    public init() {}

    /// The value, if the promise has been completed.
    public var value: Value? { self.state.withLock { $0.value } }

    /// Delivers `value` to every waiter, present and future. Only the first call counts;
    /// returns whether this call was it.
    @discardableResult
    public func complete(_ value: Value) -> Bool {
        let waiters = self.state.withLock { state -> [CheckedContinuation<Value?, Never>]? in
            guard state.value == nil else { return nil }
            state.value = value
            defer { state.waiters.removeAll() }
            return Array(state.waiters.values)
        }
        guard let waiters else { return false }
        for waiter in waiters { waiter.resume(returning: value) }
        return true
    }

    /// The value once completed, or `nil` if the calling task is cancelled first.
    public func wait() async -> Value? {
        let id = self.state.withLock { state -> UInt64 in
            defer { state.nextWaiter += 1 }
            return state.nextWaiter
        }
        return await withTaskCancellationHandler {
            await withCheckedContinuation { (continuation: CheckedContinuation<Value?, Never>) in
                let outcome: Value?? = self.state.withLock { state in
                    if let value = state.value { return .some(value) }
                    // The cancel handler may already have run (and found nothing to remove).
                    if Task.isCancelled { return .some(nil) }
                    state.waiters[id] = continuation
                    return nil
                }
                if let outcome { continuation.resume(returning: outcome) }
            }
        } onCancel: {
            let waiter = self.state.withLock { $0.waiters.removeValue(forKey: id) }
            waiter?.resume(returning: nil)
        }
    }

    /// The value once completed, or `nil` if `timeout` passes or the task is cancelled first.
    public func wait(timeout: Duration) async -> Value? {
        if let value = self.value { return value }
        let waited = try? await withTimeout(timeout) { await self.wait() }
        return waited ?? self.value
    }
}
