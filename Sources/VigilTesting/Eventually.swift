/// Polls `condition` until it holds or `timeout` passes; returns whether it held. For
/// state that emits no event (a status, a table); where a test can await an event
/// (``EventRecorder/wait(timeout:until:)``), it should.
public func eventually(
    timeout: Duration = .seconds(20),
    poll: Duration = .milliseconds(10),
    _ condition: () async throws -> Bool
) async rethrows -> Bool {
    let deadline = ContinuousClock.now + timeout
    while ContinuousClock.now < deadline {
        if try await condition() { return true }
        try? await Task.sleep(for: poll)
    }
    return try await condition()
}

/// Like ``eventually(timeout:poll:_:)`` but throws ``TimedOut`` naming `what` when the
/// deadline passes, for a test that cannot go on without the condition.
public func waitUntil(
    within timeout: Duration = .seconds(20),
    _ what: @autoclosure () -> String,
    poll: Duration = .milliseconds(20),
    _ condition: () async throws -> Bool
) async throws {
    if try await eventually(timeout: timeout, poll: poll, condition) { return }
    throw TimedOut(description: "timed out after \(timeout) waiting for \(what())")
}

/// A test's condition did not hold within its deadline.
public struct TimedOut: Error, CustomStringConvertible {
    /// What was awaited, and for how long.
    public var description: String

    /// Creates the error.
    public init(description: String) { self.description = description }
}
