import DequeModule
import FeedProtocol
import Synchronization

/// The replies of one connection, put back in arrival order and bounded in number.
///
/// Records of one connection may finish out of order (they are partitioned by account
/// across workers), but protocol v1 answers in arrival order: each record gets a
/// sequence number when read, and a reply is written only when every earlier one has
/// been. The number of records read but not yet answered on the socket is bounded:
/// a client that never reads its acks stops being read from, and TCP pushes back.
public final class ReplyQueue: Sendable {
    private enum Slot {
        case pending
        case ready(FeedReply)
        /// Not handed to the pipeline: no reply will come, none is written.
        case abandoned
    }

    private struct State {
        var base: UInt64 = 0  // sequence number of slots[0]
        var slots: Deque<Slot> = []
        var nextSequence: UInt64 = 0
        var inFlight = 0
        var submitting = true
        var closed = false
        var writer: CheckedContinuation<Void, Never>?
        var reader: CheckedContinuation<Bool, Never>?
    }

    private let state = Mutex(State())
    /// Records read but not yet answered on the socket, at most.
    public let capacity: Int

    /// Creates a queue allowing `capacity` unanswered records.
    public init(capacity: Int) {
        self.capacity = max(1, capacity)
    }

    /// Reserves a sequence number for the next record if that needs no wait; nil when
    /// `capacity` records are unanswered or the connection is closing.
    public func tryReserve() -> UInt64? {
        state.withLock { s in
            guard !s.closed, s.inFlight < capacity else { return nil }
            s.inFlight += 1
            s.slots.append(.pending)
            defer { s.nextSequence += 1 }
            return s.nextSequence
        }
    }

    /// Reserves a sequence number for the next record, waiting while `capacity` records
    /// are unanswered. Returns `nil` when the connection is closing.
    public func reserve() async -> UInt64? {
        while true {
            let immediate: UInt64?? = state.withLock { s in
                if s.closed { return .some(nil) }
                guard s.inFlight < capacity else { return nil }
                s.inFlight += 1
                s.slots.append(.pending)
                defer { s.nextSequence += 1 }
                return .some(s.nextSequence)
            }
            if let immediate { return immediate }
            let proceed = await withCheckedContinuation { (continuation: CheckedContinuation<Bool, Never>) in
                let resumeNow: Bool? = state.withLock { s in
                    if s.closed { return false }
                    if s.inFlight < capacity { return true }
                    s.reader = continuation
                    return nil
                }
                if let resumeNow { continuation.resume(returning: resumeNow) }
            }
            if !proceed { return nil }
        }
    }

    /// Records the reply for `sequence`. Never blocks: called by the pipeline.
    public func complete(_ sequence: UInt64, _ reply: FeedReply) {
        let writer: CheckedContinuation<Void, Never>? = state.withLock { s in
            guard !s.closed, sequence >= s.base else { return nil }
            let offset = Int(sequence - s.base)
            guard offset < s.slots.count, case .pending = s.slots[offset] else { return nil }
            s.slots[offset] = .ready(reply)
            guard offset == 0 else { return nil }
            defer { s.writer = nil }
            return s.writer
        }
        writer?.resume()
    }

    /// No more records will be read; the writer finishes once every reply is out.
    public func finishSubmitting() {
        let writer: CheckedContinuation<Void, Never>? = state.withLock { s in
            s.submitting = false
            defer { s.writer = nil }
            return s.writer
        }
        writer?.resume()
    }

    /// `sequences` were reserved but not handed to the pipeline: no reply will come for
    /// them and none is written, so the replies around them still go out. The sender
    /// re-sends those records.
    public func abandon(_ sequences: some Sequence<UInt64>) {
        let (writer, reader) = state.withLock { s -> (CheckedContinuation<Void, Never>?, CheckedContinuation<Bool, Never>?) in
            for sequence in sequences where sequence >= s.base {
                let offset = Int(sequence - s.base)
                guard offset < s.slots.count, case .pending = s.slots[offset] else { continue }
                s.slots[offset] = .abandoned
                s.inFlight -= 1
            }
            var wake: (CheckedContinuation<Void, Never>?, CheckedContinuation<Bool, Never>?) = (nil, nil)
            if case .abandoned = s.slots.first {
                wake.0 = s.writer
                s.writer = nil
            }
            if s.inFlight < capacity {
                wake.1 = s.reader
                s.reader = nil
            }
            return wake
        }
        writer?.resume()
        reader?.resume(returning: true)
    }

    /// The socket is gone: wake everyone; later replies are discarded.
    public func close() {
        let (writer, reader) = state.withLock { s in
            s.closed = true
            defer {
                s.writer = nil
                s.reader = nil
            }
            return (s.writer, s.reader)
        }
        writer?.resume()
        reader?.resume(returning: false)
    }

    /// Waits for the next replies that are ready in order; `nil` when all are written
    /// and no more records will come (or the queue was closed).
    public func nextReady(into replies: inout [FeedReply]) async -> Bool {
        while true {
            let done: Bool? = state.withLock { s in
                if s.closed { return true }
                var taken = 0
                var skipped = 0
                loop: while let first = s.slots.first {
                    switch first {
                    case .ready(let reply):
                        replies.append(reply)
                        taken += 1
                    case .abandoned: skipped += 1  // its place was freed when abandoned
                    case .pending: break loop
                    }
                    s.slots.removeFirst()
                }
                s.base += UInt64(taken + skipped)
                if taken > 0 { return false }
                if !s.submitting && s.slots.isEmpty { return true }
                return nil
            }
            if let done { return !done }
            await withCheckedContinuation { (continuation: CheckedContinuation<Void, Never>) in
                let ready = state.withLock { s in
                    if s.closed || (!s.submitting && s.slots.isEmpty) { return true }
                    if let first = s.slots.first, case .pending = first {} else if !s.slots.isEmpty { return true }
                    s.writer = continuation
                    return false
                }
                if ready { continuation.resume() }
            }
        }
    }

    /// The writer put `count` replies on the socket: let the reader go on.
    public func written(_ count: Int) {
        let reader: CheckedContinuation<Bool, Never>? = state.withLock { s in
            s.inFlight -= count
            guard s.inFlight < capacity else { return nil }
            defer { s.reader = nil }
            return s.reader
        }
        reader?.resume(returning: true)
    }

    /// Replies not yet written (for tests and metrics).
    public var unanswered: Int { state.withLock { $0.inFlight } }
}
