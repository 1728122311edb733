import Synchronization
import Testing

/// Polls `condition` until it holds or `timeout` passes; returns whether it held.
func eventually(
    timeout: Duration = .seconds(10),
    _ condition: @Sendable () -> Bool
) async -> Bool {
    let deadline = ContinuousClock.now + timeout
    while ContinuousClock.now < deadline {
        if condition() { return true }
        try? await Task.sleep(for: .milliseconds(2))
    }
    return condition()
}

/// A thread-safe list of strings, for recording the order of events.
final class Recorder: Sendable {
    private let events = Mutex<[String]>([])

    func record(_ event: String) { self.events.withLock { $0.append(event) } }
    var all: [String] { self.events.withLock { $0 } }
    func count(of event: String) -> Int { self.events.withLock { $0.filter { $0 == event }.count } }
}

/// An instant the tests move by hand.
struct FakeInstant: InstantProtocol {
    var offset: Duration

    static let zero = FakeInstant(offset: .zero)

    func advanced(by duration: Duration) -> FakeInstant { FakeInstant(offset: self.offset + duration) }
    func duration(to other: FakeInstant) -> Duration { other.offset - self.offset }
    static func < (lhs: FakeInstant, rhs: FakeInstant) -> Bool { lhs.offset < rhs.offset }
}

struct TestError: Error, Equatable {
    var message: String
}

/// A thread-safe value for tests.
final class Locked<Value: Sendable>: Sendable {
    private let value: Mutex<Value>

    init(_ value: Value) { self.value = Mutex(value) }
    var current: Value { self.value.withLock { $0 } }
    func update(_ body: @Sendable (inout Value) -> Void) { self.value.withLock { body(&$0) } }
    func modify<R: Sendable>(_ body: @Sendable (inout Value) -> R) -> R { self.value.withLock { body(&$0) } }
}
