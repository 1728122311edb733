import Synchronization

/// A bounded, multi-producer, single-consumer async queue between two pipeline stages.
///
/// - Producers call ``send(_:)`` or ``send(contentsOf:)`` from any number of tasks. When the
///   mailbox is full they suspend, in arrival order, until the consumer makes room: nothing is
///   ever dropped. A batch is enqueued whole or not at all.
/// - One consumer calls ``next(maxCount:)`` (or ``next(maxCount:maxWait:)`` to linger for a
///   fuller batch), which returns whatever is buffered, up to `maxCount`, and suspends only
///   while the mailbox is empty.
/// - ``finish()`` ends the mailbox: the consumer still receives everything that was enqueued,
///   then `nil`; senders still waiting, and later ones, throw ``MailboxError/Code/finished``.
///
/// Cancellation: a sender cancelled while suspended throws `CancellationError` and its
/// elements were **not** enqueued; a send that finds room enqueues without suspending and
/// does not check cancellation. A cancelled waiting consumer throws `CancellationError` and
/// loses nothing (elements are only taken when they are handed over).
///
/// The mailbox is a class so both stages share it; it outlives a stage restarted by its
/// supervisor, so buffered elements survive the restart.
public final class Mailbox<Element: Sendable>: Sendable {
    /// The most elements buffered at once (a batch larger than this enters only an empty mailbox).
    public let capacity: Int
    private let state: Mutex<MailboxState<Element>>

    /// Creates a mailbox holding at most `capacity` elements (at least 1).
    public init(capacity: Int) {
        self.capacity = max(1, capacity)
        self.state = Mutex(MailboxState(capacity: max(1, capacity)))
    }

    /// Elements currently buffered: cheap enough to sample for a queue-depth gauge.
    public var count: Int {
        self.state.withLock { $0.buffer.count }
    }

    /// Producers currently suspended because the mailbox is full.
    public var waitingSenders: Int {
        self.state.withLock { $0.senders.count }
    }

    /// Whether a consumer is suspended waiting for elements.
    public var hasWaitingConsumer: Bool {
        self.state.withLock { $0.consumer != nil }
    }

    /// Whether ``finish()`` has been called.
    public var isFinished: Bool {
        self.state.withLock { $0.isFinished }
    }

    /// Enqueues one element, suspending while the mailbox is full.
    ///
    /// - Throws: `CancellationError` if cancelled while suspended (the element was not
    ///   enqueued); ``MailboxError`` with code `finished` if the mailbox is or becomes finished
    ///   first (not enqueued either).
    public func send(_ element: Element) async throws {
        let enqueued = try self.state.withLock { state throws(MailboxError) -> MailboxState<Element>.Wakeups? in
            guard !state.isFinished else { throw MailboxError(code: .finished) }
            guard state.senders.isEmpty, state.admits(1) else { return nil }
            state.buffer.append(element)
            return state.settle()
        }
        if let enqueued {
            enqueued.resume()
        } else {
            try await self.suspendSending([element])
        }
    }

    /// Enqueues a batch whole, suspending until all of it fits; the same errors as ``send(_:)``,
    /// and on error none of the batch was enqueued.
    public func send<Elements: Sequence<Element>>(contentsOf elements: Elements) async throws {
        let batch = Array(elements)
        guard !batch.isEmpty else { return }
        let enqueued = try self.state.withLock { state throws(MailboxError) -> MailboxState<Element>.Wakeups? in
            guard !state.isFinished else { throw MailboxError(code: .finished) }
            guard state.senders.isEmpty, state.admits(batch.count) else { return nil }
            state.buffer.append(contentsOf: batch)
            return state.settle()
        }
        if let enqueued {
            enqueued.resume()
        } else {
            try await self.suspendSending(batch)
        }
    }

    /// Lets `body` change queued elements in order (buffered ones first, then those of
    /// senders waiting for room) until it returns false; the number it changed is up to it.
    /// Used to act on elements that have waited too long without taking them out.
    public func updateQueued(_ body: (inout Element) -> Bool) {
        state.withLock { state in
            for index in state.buffer.indices {
                guard body(&state.buffer[index]) else { return }
            }
            for sender in state.senders.indices {
                for index in state.senders[sender].elements.indices {
                    guard body(&state.senders[sender].elements[index]) else { return }
                }
            }
        }
    }

    /// Ends the mailbox. The consumer drains what was enqueued and then receives `nil`.
    public func finish() {
        self.state.withLock { $0.finish() }.resume()
    }

    /// Up to `maxCount` elements, as soon as at least one is available; `nil` once the
    /// mailbox is finished and drained.
    ///
    /// - Throws: `CancellationError` if cancelled while waiting (nothing is lost);
    ///   ``MailboxError`` with code `concurrentReceive` if another consumer is already waiting.
    public func next(maxCount: Int) async throws -> [Element]? {
        let maxCount = max(1, maxCount)
        let immediate = self.state.withLock { state -> ([Element], MailboxState<Element>.Wakeups)? in
            guard !state.buffer.isEmpty else { return nil }
            let batch = state.take(maxCount)
            return (batch, state.settle())
        }
        if let (batch, wakeups) = immediate {
            wakeups.resume()
            return batch
        }
        let id = self.state.withLock { $0.makeID() }
        return try await withTaskCancellationHandler {
            try await withCheckedThrowingContinuation { (continuation: CheckedContinuation<[Element]?, any Error>) in
                let registered: Result<MailboxState<Element>.Wakeups, any Error> = self.state.withLock { state in
                    if Task.isCancelled { return .failure(CancellationError()) }
                    if state.consumer != nil { return .failure(MailboxError(code: .concurrentReceive)) }
                    state.consumer = .receive(id: id, maxCount: maxCount, continuation: continuation)
                    // Elements may have arrived since the fast path; settle() then hands them over at once.
                    return .success(state.settle())
                }
                switch registered {
                case .success(let wakeups): wakeups.resume()
                case .failure(let error): continuation.resume(throwing: error)
                }
            }
        } onCancel: {
            let waiting = self.state.withLock { state -> CheckedContinuation<[Element]?, any Error>? in
                guard case .receive(let waitingID, _, let continuation) = state.consumer, waitingID == id else { return nil }
                state.consumer = nil
                return continuation
            }
            waiting?.resume(throwing: CancellationError())
        }
    }

    /// Suspends until at least `minCount` elements are buffered, the mailbox cannot hold more,
    /// it is finished, or the task is cancelled. Takes nothing.
    func waitForAvailable(minCount: Int) async {
        let id = self.state.withLock { $0.makeID() }
        await withTaskCancellationHandler {
            await withCheckedContinuation { (continuation: CheckedContinuation<Void, Never>) in
                let wakeups: MailboxState<Element>.Wakeups? = self.state.withLock { state in
                    if Task.isCancelled || state.consumer != nil { return nil }
                    state.consumer = .await(id: id, minCount: minCount, continuation: continuation)
                    return state.settle()
                }
                if let wakeups { wakeups.resume() } else { continuation.resume() }
            }
        } onCancel: {
            let waiting = self.state.withLock { state -> CheckedContinuation<Void, Never>? in
                guard case .await(let waitingID, _, let continuation) = state.consumer, waitingID == id else { return nil }
                state.consumer = nil
                return continuation
            }
            waiting?.resume()
        }
    }

    /// Takes one buffered element without waiting: for a consumer that runs on its own
    /// schedule (an event-loop timer) rather than suspending in ``next(maxCount:)``.
    public func poll() -> MailboxPoll<Element> {
        let (result, wakeups) = self.state.withLock { state -> (MailboxPoll<Element>, MailboxState<Element>.Wakeups) in
            if let element = state.take(1).first { return (.element(element), state.settle()) }
            return (state.isFinished ? .finished : .empty, MailboxState<Element>.Wakeups())
        }
        wakeups.resume()
        return result
    }

    /// Takes up to `maxCount` buffered elements without waiting (possibly none).
    func takeAvailable(maxCount: Int) -> [Element] {
        let (batch, wakeups) = self.state.withLock { state in
            let batch = state.take(maxCount)
            return (batch, state.settle())
        }
        wakeups.resume()
        return batch
    }

    private func suspendSending(_ elements: [Element]) async throws {
        let id = self.state.withLock { $0.makeID() }
        try await withTaskCancellationHandler {
            try await withCheckedThrowingContinuation { (continuation: CheckedContinuation<Void, any Error>) in
                let registered: Result<MailboxState<Element>.Wakeups, any Error> = self.state.withLock { state in
                    if state.isFinished { return .failure(MailboxError(code: .finished)) }
                    if Task.isCancelled { return .failure(CancellationError()) }
                    state.senders.append(.init(id: id, elements: elements, continuation: continuation))
                    // The consumer may have made room since the fast path.
                    return .success(state.settle())
                }
                switch registered {
                case .success(let wakeups): wakeups.resume()
                case .failure(let error): continuation.resume(throwing: error)
                }
            }
        } onCancel: {
            let wakeups = self.state.withLock { state -> (CheckedContinuation<Void, any Error>?, MailboxState<Element>.Wakeups) in
                guard let index = state.senders.firstIndex(where: { $0.id == id }) else { return (nil, .init()) }
                let sender = state.senders.remove(at: index)
                // The senders behind it may fit now.
                return (sender.continuation, state.settle())
            }
            wakeups.0?.resume(throwing: CancellationError())
            wakeups.1.resume()
        }
    }
}

/// What ``Mailbox/poll()`` found.
public enum MailboxPoll<Element: Sendable>: Sendable {
    /// The oldest buffered element, now taken.
    case element(Element)
    /// Nothing buffered yet; the mailbox is still open.
    case empty
    /// Finished and drained: nothing will come.
    case finished
}
