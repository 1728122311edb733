import NIOCore

/// What one `/alerts/stream` subscriber has queued and what it should do next: resume
/// from stored alerts, send, wait, say it overflowed, or end. Pure (no clock, no
/// continuations), so every transition is a unit test.
///
/// The publisher only ever calls `offer`, which appends a reference to a shared batch
/// or, when the subscriber is more than `capacity` events behind, drops its queue and
/// marks it overflowed: publishing never waits for a subscriber. A batch that arrives
/// when nothing is queued is always taken, however large: a subscriber one batch behind
/// is keeping up (a burst of alerts in one commit must not disconnect everyone).
struct SubscriberBuffer {
    enum Phase: Equatable {
        /// Sending stored alerts with ids above `after`; live batches queue meanwhile.
        case replaying(after: Int64)
        case live
        /// Fell more than `capacity` events behind: one `overflow` event, then the end.
        case overflowed
        case finished
    }

    /// What `offer` did.
    enum Offer: Equatable {
        case ignored
        /// Queued; wake the consumer if it was waiting.
        case queued(wake: Bool)
        /// Past capacity: the queue was dropped. Wake the consumer if it was waiting.
        case overflowed(wake: Bool)
    }

    /// What the consumer should do next.
    enum Take {
        case send([ByteBuffer])
        /// Read stored alerts with ids above this one, then call `replayed`.
        case replay(after: Int64)
        case overflow(lastSent: Int64?)
        case wait
        case end
    }

    let capacity: Int
    private(set) var phase: Phase
    /// The id of the last alert handed to the client (the `Last-Event-ID` it resumes from).
    private(set) var lastSent: Int64?
    /// Events queued, at most `capacity`.
    private(set) var queued = 0
    /// The consumer is parked waiting for events.
    private(set) var waiting = false
    private var batches: [SSEBatch] = []
    private var greeted = false
    private var overflowTaken = false

    /// A subscriber that starts live (`resumeAfter == nil`) or from stored alerts after an id.
    init(capacity: Int, resumeAfter: Int64?) {
        self.capacity = max(1, capacity)
        self.lastSent = resumeAfter
        self.phase = resumeAfter.map { .replaying(after: $0) } ?? .live
    }

    /// A batch was published.
    mutating func offer(_ batch: SSEBatch) -> Offer {
        switch phase {
        case .overflowed, .finished: return .ignored
        case .live, .replaying: break
        }
        guard batch.count > 0 else { return .ignored }
        if queued > 0 && queued + batch.count > capacity {
            let wake = waiting
            waiting = false
            phase = .overflowed
            batches = []
            queued = 0
            return .overflowed(wake: wake)
        }
        batches.append(batch)
        queued += batch.count
        let wake = waiting
        waiting = false
        return .queued(wake: wake)
    }

    /// The next step for the consumer. `.wait` means: call `park` and take again.
    mutating func take() -> Take {
        if !greeted, phase != .finished {
            greeted = true
            return .send([ServerSentEvent.greeting])
        }
        switch phase {
        case .finished: return .end
        case .overflowed:
            if overflowTaken { return .end }
            overflowTaken = true
            return .overflow(lastSent: lastSent)
        case .replaying(let after): return .replay(after: after)
        case .live:
            var chunks: [ByteBuffer] = []
            for batch in batches {
                if let bytes = batch.bytes(after: lastSent) { chunks.append(bytes) }
                if let last = batch.lastID, last > (lastSent ?? .min) { lastSent = last }
            }
            batches = []
            queued = 0
            guard var joined = chunks.first else { return .wait }
            guard chunks.count > 1 else { return .send(chunks) }
            // Only a subscriber behind by more than one flush gets here. One buffer per
            // write: a copy costs less than one trip through the channel pipeline (and
            // one HTTP chunk) per batch.
            joined = ByteBuffer()
            joined.reserveCapacity(chunks.reduce(0) { $0 + $1.readableBytes })
            for var chunk in chunks { joined.writeBuffer(&chunk) }
            return .send([joined])
        }
    }

    /// Parks the consumer unless there is something to take; `false` means take again now.
    mutating func park() -> Bool {
        switch phase {
        case .live where batches.isEmpty:
            waiting = true
            return true
        default:
            return false
        }
    }

    /// A page of stored alerts (ids ascending) was handed to the client. `exhausted`:
    /// there are no more; `newest` is the newest stored id when the page was empty, so a
    /// `Last-Event-ID` beyond it (a restored database) starts from there instead of
    /// silently skipping every new alert up to the old id.
    mutating func replayed(ids: [Int64], exhausted: Bool, newest: Int64? = nil) {
        guard case .replaying = phase else { return }
        if let last = ids.last, last > (lastSent ?? .min) { lastSent = last }
        if let newest, ids.isEmpty, newest < (lastSent ?? .min) { lastSent = newest }
        phase = exhausted ? .live : .replaying(after: lastSent ?? 0)
    }

    /// Stored alerts could not be read: the stream ends (the client retries).
    mutating func replayFailed() {
        phase = .finished
        batches = []
        queued = 0
    }

    /// Ends the stream (the client left, or shutdown). Returns whether the consumer was waiting.
    mutating func finish() -> Bool {
        let wake = waiting
        waiting = false
        phase = .finished
        batches = []
        queued = 0
        return wake
    }
}
