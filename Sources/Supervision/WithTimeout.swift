/// Runs `operation` and cancels it if `timeout` passes first, then throws ``TimeoutError``;
/// the one timeout of the package, instead of a task group racing `Task.sleep` per feature.
///
/// The operation must honour cancellation: the call returns once the operation has
/// stopped (structured concurrency waits for its children). A blocking call that cannot
/// be interrupted (a libpq round trip) needs an unstructured race instead; see
/// `DatabaseProbe`.
public func withTimeout<Result: Sendable>(
    _ timeout: Duration,
    _ operation: @escaping @Sendable () async throws -> Result
) async throws -> Result {
    try await withThrowingTaskGroup(of: Result.self) { group in
        group.addTask { try await operation() }
        group.addTask {
            try await Task.sleep(for: timeout)
            throw TimeoutError(timeout: timeout)
        }
        defer { group.cancelAll() }
        guard let first = try await group.next() else { throw CancellationError() }
        return first
    }
}

/// The operation given to ``withTimeout(_:_:)`` did not finish within `timeout`.
public struct TimeoutError: Error, Hashable, CustomStringConvertible {
    /// How long the operation was given.
    public var timeout: Duration

    /// Creates the error for a `timeout`.
    public init(timeout: Duration) { self.timeout = timeout }

    public var description: String {
        "the operation did not finish within \(timeout); it was cancelled (raise the timeout if the work is legitimately slow)"
    }
}
