import Logging
import Metrics
import PostgresStore
import Synchronization

/// Publishes committed alerts to the `/alerts/stream` subscribers, never slowing the
/// writer that publishes them.
///
/// Bounded everywhere: at most `maxSubscribers` at once (more are refused with 503); each
/// holds at most `bufferEvents` unsent alerts, and one that falls further behind is
/// disconnected with an `overflow` event, to resume from stored alerts with
/// `Last-Event-ID`. The writer only appends its alerts to a pending list; a flush, at
/// most one per `flushInterval` (sooner when half a buffer is pending), serializes them
/// once into one shared buffer and hands that to every subscriber with one non-blocking
/// enqueue and at most one wake-up each, so a subscriber costs one write per flush
/// however many commits it spans. The durable path to downstream systems is the webhook
/// outbox; this stream is for watching.
public final class AlertBroadcaster: Sendable {
    /// Limits of the stream.
    public struct Limits: Sendable {
        /// Subscribers at once (256).
        public var maxSubscribers: Int
        /// Alerts a subscriber may be behind before it is disconnected (1024).
        public var bufferEvents: Int
        /// How long an overflowed subscriber gets to take its `overflow` event before its
        /// connection is closed (a client that stopped reading never will) (2 s).
        public var overflowGrace: Duration
        /// After a flush, how long alerts gather before the next (100 ms), unless half a
        /// buffer is pending first: a burst of commits costs each subscriber one wake-up
        /// and one write, not one per commit. After a quiet spell the first alert goes at once.
        public var flushInterval: Duration

        /// Creates limits.
        public init(
            maxSubscribers: Int = 256, bufferEvents: Int = 1024, overflowGrace: Duration = .seconds(2),
            flushInterval: Duration = .milliseconds(100)
        ) {
            self.maxSubscribers = max(0, maxSubscribers)
            self.bufferEvents = max(1, bufferEvents)
            self.overflowGrace = overflowGrace
            self.flushInterval = flushInterval
        }
    }

    /// Alerts published since the last flush, and when the next flush is due.
    private struct Pending {
        var alerts: [CommittedAlert] = []
        var lastFlush: ContinuousClock.Instant?
        /// A flush task is on its way (it takes whatever is pending when it runs).
        var scheduled = false
    }

    /// The limits it enforces.
    public let limits: Limits
    private let subscribers = Mutex<(next: Int, live: [Int: AlertSubscriber])>((0, [:]))
    private let pending = Mutex(Pending())
    /// Held while a flush takes the pending alerts and offers them, so two flushes never
    /// interleave (every subscriber sees batches in id order). The writer never takes it.
    private let flushing = Mutex(())
    private let replay: AlertReplayReader?
    private let logger: Logger
    private let subscriberGauge = Gauge(label: "vigil_alert_stream_subscribers")
    private let rejected = Counter(label: "vigil_alert_stream_rejected_total")
    private let overflows = Counter(label: "vigil_alert_stream_overflows_total")
    private let replayed = Counter(label: "vigil_alert_stream_replayed_total")
    /// Refusals so far: logged at 1, 2, 4, 8, ... so a client retrying in a loop cannot flood the log.
    private let refusals = Mutex(0)

    /// Creates a broadcaster; with `database`, subscribers can resume from stored alerts.
    public init(limits: Limits = Limits(), database: PostgresConfiguration? = nil, logger: Logger = Logger(label: "vigil.alerts.stream")) {
        self.limits = limits
        self.replay = database.map { AlertReplayReader(configuration: $0) }
        self.logger = logger
    }

    /// A new subscriber, or `nil` when `maxSubscribers` are already connected (counted).
    /// With `lastEventID` it first gets the stored alerts after that id, then live ones.
    func subscribe(peer: String, lastEventID: Int64?) -> AlertSubscriber? {
        let subscriber = subscribers.withLock { state -> AlertSubscriber? in
            guard state.live.count < limits.maxSubscribers else { return nil }
            state.next += 1
            let subscriber = AlertSubscriber(
                id: state.next, peer: peer, capacity: limits.bufferEvents, resumeAfter: lastEventID, replay: replay
            ) { [weak self] subscriber, replayedCount in
                self?.remove(subscriber, replayedCount: replayedCount)
            }
            state.live[subscriber.id] = subscriber
            return subscriber
        }
        guard let subscriber else {
            rejected.increment()
            let count = refusals.withLock {
                $0 += 1
                return $0
            }
            if count & (count - 1) == 0 {
                logger.warning(
                    "alert stream subscriber refused: \(limits.maxSubscribers) already connected (--max-stream-subscribers); \(count) refused so far",
                    metadata: ["peer": "\(peer)"])
            }
            return nil
        }
        subscriberGauge.record(subscriberCount)
        logger.debug(
            "alert stream subscriber connected",
            metadata: [
                "subscriber": "\(subscriber.id)", "peer": "\(peer)", "last_event_id": "\(lastEventID.map(String.init) ?? "none")",
            ])
        return subscriber
    }

    /// Takes committed alerts for the subscribers: appended to the pending list (one lock,
    /// no serialization, no per-subscriber work here); a flush sends them.
    public func publish(_ alerts: [CommittedAlert]) {
        guard !alerts.isEmpty, subscribers.withLock({ !$0.live.isEmpty }) else { return }
        let now = ContinuousClock.now
        let interval = limits.flushInterval
        let halfBuffer = max(1, limits.bufferEvents / 2)
        let flushAt = pending.withLock { state -> ContinuousClock.Instant? in
            state.alerts.append(contentsOf: alerts)
            if state.alerts.count >= halfBuffer {
                // Half a buffer waiting: flush now, whether or not a timed flush is on its way.
                state.scheduled = true
                return now
            }
            guard !state.scheduled else { return nil }
            state.scheduled = true
            guard let last = state.lastFlush, now - last < interval else { return now }
            return last + interval
        }
        guard let flushAt else { return }
        Task {
            if flushAt > .now { try? await Task.sleep(until: flushAt) }
            self.flush()
        }
    }

    /// Serializes the pending alerts once and offers the shared batch to every subscriber.
    func flush() {
        flushing.withLock { _ in
            let alerts = pending.withLock { state -> [CommittedAlert] in
                state.scheduled = false
                state.lastFlush = .now
                defer { state.alerts = [] }
                return state.alerts
            }
            guard !alerts.isEmpty else { return }
            let targets = subscribers.withLock { Array($0.live.values) }
            guard !targets.isEmpty else { return }
            let batch = SSEBatch(alerts)
            for subscriber in targets {
                guard case .overflowed = subscriber.offer(batch) else { continue }
                overflowed(subscriber)
            }
        }
    }

    private func overflowed(_ subscriber: AlertSubscriber) {
        overflows.increment()
        logger.warning(
            "alert stream subscriber fell more than \(limits.bufferEvents) alerts behind; disconnecting it",
            metadata: [
                "subscriber": "\(subscriber.id)", "peer": "\(subscriber.peer)",
                "last_event_id": "\(subscriber.lastSent.map(String.init) ?? "none")",
            ])
        let grace = limits.overflowGrace
        Task {
            try? await Task.sleep(for: grace)
            subscriber.closeUnlessEnded()
        }
    }

    /// Ends every subscription (shutdown).
    public func finishAll() {
        let targets = subscribers.withLock { Array($0.live.values) }
        for subscriber in targets { subscriber.finish() }
    }

    /// Number of live subscribers.
    public var subscriberCount: Int { subscribers.withLock { $0.live.count } }

    private func remove(_ subscriber: AlertSubscriber, replayedCount: Int) {
        subscribers.withLock { _ = $0.live.removeValue(forKey: subscriber.id) }
        subscriberGauge.record(subscriberCount)
        if replayedCount > 0 { replayed.increment(by: replayedCount) }
        logger.debug(
            "alert stream subscriber disconnected",
            metadata: [
                "subscriber": "\(subscriber.id)", "replayed": "\(replayedCount)",
                "last_event_id": "\(subscriber.lastSent.map(String.init) ?? "none")",
            ])
    }
}
