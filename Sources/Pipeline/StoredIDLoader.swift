import Detection
import Logging
import PostgresStore
import ServiceLifecycle
import Supervision

/// Loads the ``StoredIDFilter`` once, on a connection of its own, while the detection
/// workers go on with a lookup for every id; then ends. A child of the pipeline
/// supervisor (with `--ha`, on the leader only, after the lease is taken): a load that
/// fails for a lost connection is retried by the supervisor's restart.
struct StoredIDLoader: Service {
    let filter: StoredIDFilter
    let database: PostgresConfiguration
    let health: PipelineHealth
    /// Raised once the filter answers (for `/readyz`-style waits and tests).
    let loaded: OneShotSignal
    var logger = Logger(label: "vigil.stored-ids")

    func run() async throws {
        // Not before the start-up check has found the schema current.
        guard (try? await cancelWhenGracefulShutdown({ await self.health.databaseVerified.wait() })) == true else { return }
        guard !filter.isLoaded else { return loaded.raise() }
        let started = ContinuousClock.now
        let rows = try await PostgresConnection.withConnection(database) { db in
            try await cancelWhenGracefulShutdown { try await filter.load(on: db) }
        }
        loaded.raise()
        logger.info(
            "stored transaction ids loaded: a new id needs no lookup from now on",
            metadata: ["ids": "\(rows)", "took": "\(ContinuousClock.now - started)"])
    }
}
