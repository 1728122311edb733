import Foundation

/// A bounded first-in first-out hand-over between dedicated threads: `put` waits while it
/// is full, `take` while it is empty. The replay's stages (the COPY reader, each lane) run
/// on threads of their own because they block here, and blocking belongs off Swift's
/// cooperative pool (one thread per core: two blocked stages would stall the process).
///
/// `@unchecked Sendable`: every mutable field is read and written only while holding
/// `condition`'s lock.
final class Handover<Element: Sendable>: @unchecked Sendable {
    private let condition = NSCondition()
    private var items: [Element] = []
    private var head = 0
    private let capacity: Int
    private var closed = false

    /// A hand-over holding at most `capacity` elements.
    init(capacity: Int) {
        precondition(capacity > 0)
        self.capacity = capacity
    }

    /// Adds `element`, waiting for room; drops it when the hand-over is closed.
    func put(_ element: Element) {
        condition.lock()
        defer { condition.unlock() }
        while items.count - head >= capacity && !closed { condition.wait() }
        guard !closed else { return }
        items.append(element)
        condition.broadcast()
    }

    /// The oldest element, waiting for one; `nil` once the hand-over is closed and empty.
    func take() -> Element? {
        condition.lock()
        defer { condition.unlock() }
        while head == items.count && !closed { condition.wait() }
        guard head < items.count else { return nil }
        let element = items[head]
        head += 1
        if head == items.count {
            items.removeAll(keepingCapacity: true)
            head = 0
        }
        condition.broadcast()
        return element
    }

    /// No more elements will come: `take` returns what is left, then `nil`.
    func close() {
        condition.lock()
        closed = true
        condition.broadcast()
        condition.unlock()
    }
}

/// Runs `body` on a new thread of its own and returns its result.
func onThread<T: Sendable>(_ name: String, _ body: @escaping @Sendable () -> T) async -> T {
    await withCheckedContinuation { continuation in
        let thread = Thread { continuation.resume(returning: body()) }
        thread.name = name
        // Rule evaluation recurses over expressions; give it the main thread's room.
        thread.stackSize = 8 << 20
        thread.start()
    }
}
