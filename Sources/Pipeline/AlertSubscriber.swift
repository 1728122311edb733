import HTTPAPI
import NIOCore
import Synchronization

/// One `/alerts/stream` client: its bounded queue (a ``SubscriberBuffer``), the consumer
/// parked waiting for events, and the way to close its connection.
///
/// The publisher's side (`offer`, once per flush) takes one lock and at most resumes one
/// continuation; the consumer's side (`next`) reads stored alerts when resuming and hands
/// queued batches to the connection: a subscriber that keeps up gets the flush's shared
/// buffer itself, written with one write and one flush.
final class AlertSubscriber: EventStreamSource {
    private struct State {
        var buffer: SubscriberBuffer
        var waiter: CheckedContinuation<Void, Never>?
        var closeConnection: (@Sendable () -> Void)?
        var ended = false
    }

    let id: Int
    /// The client's address, for the log.
    let peer: String
    /// The `Last-Event-ID` it resumed from.
    let resumedAfter: Int64?
    private let state: Mutex<State>
    private let replay: AlertReplayReader?
    private let onEnd: @Sendable (AlertSubscriber, _ replayed: Int) -> Void
    private let replayedCount = Mutex(0)

    init(
        id: Int, peer: String, capacity: Int, resumeAfter: Int64?, replay: AlertReplayReader?,
        onEnd: @escaping @Sendable (AlertSubscriber, _ replayed: Int) -> Void
    ) {
        self.id = id
        self.peer = peer
        self.resumedAfter = resumeAfter
        self.replay = replay
        self.onEnd = onEnd
        self.state = Mutex(State(buffer: SubscriberBuffer(capacity: capacity, resumeAfter: replay == nil ? nil : resumeAfter)))
    }

    /// The id of the last alert handed to the client.
    var lastSent: Int64? { state.withLock { $0.buffer.lastSent } }

    /// Queues a published batch (never waits). Called by the broadcaster.
    func offer(_ batch: SSEBatch) -> SubscriberBuffer.Offer {
        let (offer, waiter) = state.withLock { state -> (SubscriberBuffer.Offer, CheckedContinuation<Void, Never>?) in
            let offer = state.buffer.offer(batch)
            switch offer {
            case .queued(wake: true), .overflowed(wake: true):
                defer { state.waiter = nil }
                return (offer, state.waiter)
            default:
                return (offer, nil)
            }
        }
        waiter?.resume()
        return offer
    }

    /// Closes the connection unless the stream has ended by now (the overflow grace).
    func closeUnlessEnded() {
        let close = state.withLock { $0.ended ? nil : $0.closeConnection }
        close?()
    }

    func attach(closeConnection: @escaping @Sendable () -> Void) {
        state.withLock { $0.closeConnection = closeConnection }
    }

    func finish() {
        let waiter = state.withLock { state -> CheckedContinuation<Void, Never>? in
            _ = state.buffer.finish()
            defer { state.waiter = nil }
            return state.waiter
        }
        waiter?.resume()
        end()
    }

    func next() async -> [ByteBuffer]? {
        while true {
            if Task.isCancelled { finish() }
            switch state.withLock({ $0.buffer.take() }) {
            case .send(let chunks):
                return chunks
            case .overflow(let lastSent):
                return [ServerSentEvent.overflow(lastSent: lastSent, buffered: state.withLock { $0.buffer.capacity })]
            case .end:
                end()
                return nil
            case .wait:
                await park()
            case .replay(let after):
                if let chunks = await replayPage(after: after) { return chunks }
            }
        }
    }

    /// Sends one page of stored alerts (nil when the page was empty: take again).
    private func replayPage(after: Int64) async -> [ByteBuffer]? {
        guard let replay else {
            state.withLock { $0.buffer.replayed(ids: [], exhausted: true) }
            return nil
        }
        do {
            let page = try await replay.page(after: after)
            state.withLock { $0.buffer.replayed(ids: page.ids, exhausted: page.exhausted, newest: page.newest) }
            guard !page.alerts.isEmpty else { return nil }
            replayedCount.withLock { $0 += page.alerts.count }
            return [SSEBatch(page.alerts).bytes]
        } catch {
            state.withLock { $0.buffer.replayFailed() }
            return [ServerSentEvent.replayFailed(after: after, reason: "\(error)")]
        }
    }

    private func park() async {
        await withTaskCancellationHandler {
            await withCheckedContinuation { (continuation: CheckedContinuation<Void, Never>) in
                let parked = state.withLock { state -> Bool in
                    guard state.buffer.park() else { return false }
                    state.waiter = continuation
                    return true
                }
                if !parked { continuation.resume() }
            }
        } onCancel: {
            self.finish()
        }
    }

    /// Reports the end once (unsubscribes it).
    private func end() {
        let first = state.withLock { state -> Bool in
            defer { state.ended = true }
            return !state.ended
        }
        if first { onEnd(self, replayedCount.withLock { $0 }) }
    }
}
