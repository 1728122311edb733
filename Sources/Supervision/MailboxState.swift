import DequeModule

/// The lock-protected state of a ``Mailbox``. Its methods only change state and return the
/// continuations to resume, which the mailbox resumes after releasing the lock.
struct MailboxState<Element: Sendable> {
    struct WaitingSender {
        var id: UInt64
        var elements: [Element]
        var continuation: CheckedContinuation<Void, any Error>
    }

    enum WaitingConsumer {
        /// Wants up to `maxCount` elements, as soon as there is one.
        case receive(id: UInt64, maxCount: Int, continuation: CheckedContinuation<[Element]?, any Error>)
        /// Wants to know when at least `minCount` elements are buffered (or no more can come).
        case await(id: UInt64, minCount: Int, continuation: CheckedContinuation<Void, Never>)

        var id: UInt64 {
            switch self {
            case .receive(let id, _, _), .await(let id, _, _): return id
            }
        }
    }

    /// Continuations to resume once the lock is released.
    struct Wakeups {
        var senders: [CheckedContinuation<Void, any Error>] = []
        var failedSenders: [CheckedContinuation<Void, any Error>] = []
        var receiver: (CheckedContinuation<[Element]?, any Error>, [Element]?)?
        var awaiter: CheckedContinuation<Void, Never>?

        func resume() {
            for sender in self.senders { sender.resume() }
            for sender in self.failedSenders { sender.resume(throwing: MailboxError(code: .finished)) }
            if let (continuation, batch) = self.receiver { continuation.resume(returning: batch) }
            self.awaiter?.resume()
        }
    }

    let capacity: Int
    var buffer: Deque<Element> = []
    var senders: Deque<WaitingSender> = []
    var consumer: WaitingConsumer?
    var isFinished = false
    var nextID: UInt64 = 0

    init(capacity: Int) {
        self.capacity = capacity
        self.buffer.reserveCapacity(capacity)
    }

    mutating func makeID() -> UInt64 {
        defer { self.nextID &+= 1 }
        return self.nextID
    }

    /// Whether a batch of `count` may enter now. A batch larger than the capacity enters an
    /// empty buffer, so an oversized batch waits for the consumer instead of waiting forever.
    func admits(_ count: Int) -> Bool {
        self.buffer.isEmpty || self.buffer.count + count <= self.capacity
    }

    /// Takes up to `maxCount` buffered elements.
    mutating func take(_ maxCount: Int) -> [Element] {
        let count = min(maxCount, self.buffer.count)
        // Moved out one by one: copying a prefix and then removing it would retain and
        // release every element (records carry many references).
        var batch: [Element] = []
        batch.reserveCapacity(count)
        for _ in 0..<count { batch.append(self.buffer.removeFirst()) }
        return batch
    }

    /// Lets waiting senders in (in arrival order) and wakes the consumer if it can proceed.
    mutating func settle() -> Wakeups {
        var wakeups = Wakeups()
        self.admitSenders(into: &wakeups)
        switch self.consumer {
        case .receive(_, let maxCount, let continuation):
            if !self.buffer.isEmpty {
                self.consumer = nil
                wakeups.receiver = (continuation, self.take(maxCount))
                self.admitSenders(into: &wakeups)
            } else if self.isFinished {
                self.consumer = nil
                wakeups.receiver = (continuation, nil)
            }
        case .await(_, let minCount, let continuation):
            if self.buffer.count >= minCount || self.buffer.count >= self.capacity || !self.senders.isEmpty || self.isFinished {
                self.consumer = nil
                wakeups.awaiter = continuation
            }
        case nil:
            break
        }
        return wakeups
    }

    private mutating func admitSenders(into wakeups: inout Wakeups) {
        while let first = self.senders.first, self.admits(first.elements.count) {
            self.senders.removeFirst()
            self.buffer.append(contentsOf: first.elements)
            wakeups.senders.append(first.continuation)
        }
    }

    /// Finishes the mailbox: waiting senders fail, the consumer drains what is buffered.
    mutating func finish() -> Wakeups {
        guard !self.isFinished else { return Wakeups() }
        self.isFinished = true
        let failed = self.senders.map(\.continuation)
        self.senders.removeAll()
        var wakeups = self.settle()
        wakeups.failedSenders = failed
        return wakeups
    }
}
