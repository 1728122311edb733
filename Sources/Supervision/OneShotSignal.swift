/// A flag that is raised once and can be awaited, with or without a deadline: a
/// ``Promise`` that carries no value.
///
/// The supervisor uses it for "this child has exited" and "this child is ready". Waiting is
/// cancellation-aware: a cancelled waiter is resumed with `false` at once, so a wait never
/// outlives its timeout.
public final class OneShotSignal: Sendable {
    private let promise = Promise<Void>()

    /// Creates a lowered flag.
    public init() {}

    /// Whether ``raise()`` has been called.
    public var isRaised: Bool { self.promise.value != nil }

    /// Raises the flag and wakes every waiter; later calls do nothing.
    public func raise() { self.promise.complete(()) }

    /// Waits until raised (`true`) or until the calling task is cancelled (`false`).
    public func wait() async -> Bool { await self.promise.wait() != nil }

    /// Waits until raised (`true`) or until `timeout` has passed or the task is cancelled (`false`).
    public func wait(timeout: Duration) async -> Bool { await self.promise.wait(timeout: timeout) != nil }
}
