import Logging
import PostgresStore
import Synchronization
import VigilCore

/// Delivers one endpoint's messages: claims what is due (up to its concurrency limit),
/// sends each in a child task, records every attempt, and sleeps until the next message is
/// due, a wake-up, or the poll interval. A slow or failing endpoint only ever waits on
/// itself: its requests run on its own HTTP client and its own tasks.
final class EndpointWorker: Sendable {
    private struct State {
        var snapshot: EndpointSnapshot
        var inFlight = 0
        var stopping = false
        var throttle: EndpointThrottle
    }

    let endpointID: Int64
    private let state: Mutex<State>
    private let wake = WakeSignal()
    private let configuration: WebhookDispatcherConfiguration
    private let db: PostgresConnection
    private let logger: Logger

    init(snapshot: EndpointSnapshot, configuration: WebhookDispatcherConfiguration, db: PostgresConnection) {
        self.endpointID = snapshot.id
        self.configuration = configuration
        self.db = db
        var logger = configuration.logger
        logger[metadataKey: "webhook.endpoint"] = "\(snapshot.id)"
        self.logger = logger
        let throttle = EndpointThrottle(concurrency: configuration.concurrencyPerEndpoint, initialPause: configuration.slowDownPause)
        self.state = Mutex(State(snapshot: snapshot, throttle: throttle))
    }

    /// Takes a newer view of the endpoint (URL or secrets changed) and looks for work.
    func update(_ snapshot: EndpointSnapshot) {
        state.withLock { $0.snapshot = snapshot }
        wake.signal()
    }

    /// Something may be due (a notification arrived or the poll interval passed).
    func poke() { wake.signal() }

    /// Whether the worker was told to stop (it may still be finishing requests).
    var isStopping: Bool { state.withLock { $0.stopping } }

    /// Stops claiming; `run` returns once the requests in flight have finished.
    func stop() {
        state.withLock { $0.stopping = true }
        wake.signal()
    }

    /// The worker's loop. Throws only when the database connection is lost, which the
    /// dispatcher answers by restarting (leased messages then become due again).
    func run() async throws {
        var connection = EndpointConnection(configuration: configuration)
        do {
            try await withThrowingDiscardingTaskGroup { group in
                while !Task.isCancelled {
                    let (snapshot, stopping) = state.withLock { ($0.snapshot, $0.stopping) }
                    if stopping { break }
                    let sender = await connection.sender(for: snapshot.url, logger: logger)
                    let sleep: Duration
                    do {
                        sleep = try await claimAndStart(snapshot: snapshot, sender: sender, group: &group)
                    } catch let error as PostgresError where error.isConnectionError {
                        throw error
                    } catch {
                        logger.error("webhook worker: \(error)")
                        sleep = configuration.pollInterval
                    }
                    await wake.wait(timeout: sleep)
                }
            }
        } catch {
            await connection.shutdownAll()
            throw error
        }
        await connection.shutdownAll()
    }

    /// Claims what may start now and returns how long to sleep before looking again.
    private func claimAndStart(
        snapshot: EndpointSnapshot, sender: Result<EndpointSender, WebhookError>,
        group: inout ThrowingDiscardingTaskGroup<any Error>
    ) async throws -> Duration {
        let now = ContinuousClock.now
        let (free, pausedUntil) = state.withLock { state -> (Int, ContinuousClock.Instant?) in
            guard state.throttle.mayStart(at: now) else { return (0, state.throttle.pausedUntil) }
            return (state.throttle.currentLimit - state.inFlight, nil)
        }
        if let pausedUntil { return max(.milliseconds(1), pausedUntil - now) }
        guard free > 0 else { return configuration.pollInterval }  // a finishing request wakes us
        let lease = configuration.requestTimeout + configuration.leaseMargin
        let claimed = try await OutboxQueries.claim(endpointID: endpointID, limit: free, lease: lease, on: db)
        for message in claimed {
            state.withLock { $0.inFlight += 1 }
            group.addTask {
                defer {
                    self.state.withLock { $0.inFlight -= 1 }
                    self.wake.signal()
                }
                try await self.deliver(message, snapshot: snapshot, sender: sender)
            }
        }
        if claimed.count == free { return configuration.pollInterval }
        guard let due = try await OutboxQueries.secondsUntilNextDue(endpointID: endpointID, on: db) else {
            return configuration.pollInterval
        }
        // Overdue rows we could not claim are locked by another dispatcher: look again soon.
        return min(configuration.pollInterval, .milliseconds(Int64(max(25, due * 1000))))
    }

    private func deliver(_ message: ClaimedMessage, snapshot: EndpointSnapshot, sender: Result<EndpointSender, WebhookError>) async throws {
        let secrets = snapshot.openSecrets(keyring: configuration.keyring)
        let started = ContinuousClock.now
        let outcome: DeliveryOutcome
        switch (sender, secrets) {
        case (.failure(let error), _), (_, .failure(let error)):
            outcome = .refused(error.message)
        case (.success(let sender), .success(let secrets)):
            outcome = await sender.send(messageID: message.messageID, body: message.body, secrets: secrets, now: .now())
        }
        // Cancelled mid-request (the dispatcher is stopping): the lease brings it back later.
        if Task.isCancelled { return }
        let elapsed = ContinuousClock.now - started
        state.withLock { $0.throttle.record(outcome, at: .now) }
        let decision = try await OutboxQueries.record(
            message, endpointID: endpointID, outcome: outcome, latencyMS: Int(elapsed.seconds * 1000),
            policy: configuration.policy, jitterUnit: configuration.jitterSource(), on: db
        )
        WebhookMetrics.attempt(endpoint: endpointID, seconds: elapsed.seconds)
        report(message, outcome: outcome, decision: decision)
    }

    private func report(_ message: ClaimedMessage, outcome: DeliveryOutcome, decision: DeliveryPolicy.Decision) {
        var metadata: Logger.Metadata = [
            "webhook.id": "\(message.messageID)", "alert.id": "\(message.alertID.map(String.init) ?? "-")", "attempt": "\(message.attempt)",
        ]
        if let status = outcome.statusCode { metadata["http.status"] = "\(status)" }
        switch decision.message {
        case .delivered:
            let latency = Duration.microseconds(Timestamp.now().microsecondsSinceEpoch - message.createdAt.microsecondsSinceEpoch)
            WebhookMetrics.delivered(endpoint: endpointID, latency: latency)
            logger.debug("webhook delivered", metadata: metadata)
        case .retry(let delay):
            WebhookMetrics.retried(endpoint: endpointID)
            metadata["retry.in"] = "\(DeliveryPolicy.describe(delay))"
            logger.info("webhook attempt failed (\(outcome.errorText ?? "")); will retry", metadata: metadata)
        case .dead:
            WebhookMetrics.dead(endpoint: endpointID)
            logger.warning("webhook dead after \(message.attempt) attempts (\(outcome.errorText ?? ""))", metadata: metadata)
        }
        if case .disable(let reason) = decision.endpoint {
            WebhookMetrics.disabled(endpoint: endpointID, reason: reason)
            logger.warning("webhook endpoint disabled: \(reason); re-enable with 'vigil webhooks enable \(endpointID)'")
            stop()
        }
    }
}
