import VigilCore

/// A scheduled transaction waiting for the clock (its id is assigned when emitted).
struct Pending {
    var transaction: Transaction
    var label: FraudLabel?
    /// Tie-breaker that keeps equal timestamps in scheduling order (determinism).
    var sequence: Int
}

/// A binary min-heap by (timestamp, sequence): merges fraud cases into the stream in time order.
struct PendingQueue {
    private var heap: [Pending] = []

    var count: Int { heap.count }
    var first: Pending? { heap.first }

    private static func less(_ a: Pending, _ b: Pending) -> Bool {
        a.transaction.timestamp != b.transaction.timestamp
            ? a.transaction.timestamp < b.transaction.timestamp : a.sequence < b.sequence
    }

    mutating func push(_ item: Pending) {
        heap.append(item)
        var i = heap.count - 1
        while i > 0 {
            let parent = (i - 1) / 2
            guard Self.less(heap[i], heap[parent]) else { break }
            heap.swapAt(i, parent)
            i = parent
        }
    }

    mutating func pop() -> Pending? {
        guard !heap.isEmpty else { return nil }
        heap.swapAt(0, heap.count - 1)
        let top = heap.removeLast()
        var i = 0
        while true {
            let l = 2 * i + 1
            let r = l + 1
            var m = i
            if l < heap.count, Self.less(heap[l], heap[m]) { m = l }
            if r < heap.count, Self.less(heap[r], heap[m]) { m = r }
            if m == i { break }
            heap.swapAt(i, m)
            i = m
        }
        return top
    }
}
