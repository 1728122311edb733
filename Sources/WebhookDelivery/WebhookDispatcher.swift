import Logging
import PostgresStore
import ServiceLifecycle

/// Delivers the outbox: one ``EndpointWorker`` per enabled endpoint, woken by
/// LISTEN/NOTIFY on ``WebhookOutbox/channel`` with a polling fallback.
///
/// A `Service` meant to run under the pipeline's supervisor: it throws when it loses
/// PostgreSQL (the supervisor restarts it; leased messages become due again when their
/// lease ends), returns on graceful shutdown after the requests in flight have finished,
/// and stops at once on cancellation (interrupted attempts are retried after the lease).
public final class WebhookDispatcher: Service, Sendable {
    /// The configuration it runs with.
    public let configuration: WebhookDispatcherConfiguration

    /// Creates a dispatcher; nothing connects until `run()`.
    public init(configuration: WebhookDispatcherConfiguration) {
        self.configuration = configuration
    }

    /// Runs until cancellation or graceful shutdown.
    public func run() async throws {
        var listenConfiguration = configuration.database
        listenConfiguration.applicationName += "-listen"
        try await PostgresConnection.withConnection(listenConfiguration) { listener in
            try await PostgresConnection.withConnection(configuration.database) { db in
                try await loop(listener: listener, db: db)
            }
        }
    }

    private func loop(listener: PostgresConnection, db: PostgresConnection) async throws {
        guard let channel = PostgresIdentifier(WebhookOutbox.channel) else { return }
        try await listener.listen(channel)
        let logger = configuration.logger
        logger.info(
            "webhook dispatcher started",
            metadata: [
                "timeout": "\(configuration.requestTimeout)", "attempts": "\(configuration.policy.schedule.maxAttempts)",
                "concurrency": "\(configuration.concurrencyPerEndpoint)",
            ])
        var workers: [Int64: EndpointWorker] = [:]
        try await withThrowingDiscardingTaskGroup { group in
            var lastRefresh: ContinuousClock.Instant?
            var woken = true
            while !Task.isCancelled && !Task.isShuttingDownGracefully {
                let now = ContinuousClock.now
                if woken || lastRefresh.map({ now - $0 >= configuration.pollInterval }) ?? true {
                    lastRefresh = now
                    let endpoints = try await OutboxQueries.enabledEndpoints(on: db)
                    reconcile(&workers, with: endpoints, db: db, group: &group)
                    for worker in workers.values { worker.poke() }
                }
                // Short slices so cancellation and graceful shutdown are noticed quickly:
                // waiting blocks the listener connection's own thread, not the pool.
                let slice = min(configuration.pollInterval, .milliseconds(250))
                woken = try await !listener.waitForNotifications(timeout: slice).isEmpty
            }
            for worker in workers.values { worker.stop() }
        }
        logger.info("webhook dispatcher stopped")
    }

    /// Starts workers for new endpoints, updates changed ones, stops those disabled or removed.
    private func reconcile(
        _ workers: inout [Int64: EndpointWorker], with endpoints: [EndpointSnapshot], db: PostgresConnection,
        group: inout ThrowingDiscardingTaskGroup<any Error>
    ) {
        var seen = Set<Int64>()
        for endpoint in endpoints {
            seen.insert(endpoint.id)
            if let worker = workers[endpoint.id], !worker.isStopping {
                worker.update(endpoint)
            } else {
                let worker = EndpointWorker(snapshot: endpoint, configuration: configuration, db: db)
                workers[endpoint.id] = worker
                group.addTask { try await worker.run() }
            }
        }
        for (id, worker) in workers where !seen.contains(id) {
            worker.stop()
            workers[id] = nil
        }
    }
}
