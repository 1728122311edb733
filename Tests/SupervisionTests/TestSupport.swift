import Synchronization
import Testing

/// An instant the tests move by hand.
struct FakeInstant: InstantProtocol {
    var offset: Duration

    static let zero = FakeInstant(offset: .zero)

    func advanced(by duration: Duration) -> FakeInstant { FakeInstant(offset: self.offset + duration) }
    func duration(to other: FakeInstant) -> Duration { other.offset - self.offset }
    static func < (lhs: FakeInstant, rhs: FakeInstant) -> Bool { lhs.offset < rhs.offset }
}

/// A thread-safe value for tests.
final class Locked<Value: Sendable>: Sendable {
    private let value: Mutex<Value>

    init(_ value: Value) { self.value = Mutex(value) }
    var current: Value { self.value.withLock { $0 } }
    func update(_ body: @Sendable (inout Value) -> Void) { self.value.withLock { body(&$0) } }
    func modify<R: Sendable>(_ body: @Sendable (inout Value) -> R) -> R { self.value.withLock { body(&$0) } }
}
