import FeedServer
import Logging
import NIOHTTP1
import PostgresStore
import ServiceLifecycle
import Supervision
import Synchronization

/// The whole of `vigil serve`: the stages wired into one supervision tree.
///
/// ```
/// ServiceGroup (signals, graceful shutdown in reverse order)
/// ├── pipeline supervisor (rest-for-one): writer
/// ├── feed supervisor: TCP listener ──► ingest mailbox ──► writer
/// └── ops supervisor: /healthz /readyz /metrics
/// ```
/// Shutdown runs in reverse: the ops endpoint, then the feed (stop reading, answer
/// what was read), then the pipeline (store what is queued), so nothing read is lost.
public final class VigilServer: Sendable {
    /// The feed listener (for its bound port in tests).
    public let feed: FeedServer
    /// The ops endpoint (for its bound port in tests).
    public let ops: OpsServer
    /// Readiness as `/readyz` reports it.
    public let health: PipelineHealth
    /// The writer stage.
    public let writer: WriterStage
    /// The mailbox between ingest and the writer.
    public let ingest: Mailbox<PipelineItem>
    let supervisors: [Supervisor]
    let configuration: ServeConfiguration
    let logger: Logger

    /// Assembles the tree. `metricsText` renders `/metrics` (Prometheus text format).
    public init(configuration: ServeConfiguration, logger: Logger = Logger(label: "vigil"), metricsText: (@Sendable () -> String)? = nil) {
        self.configuration = configuration
        self.logger = logger
        let health = PipelineHealth()
        let ingest = Mailbox<PipelineItem>(capacity: configuration.ingestQueueCapacity)
        let writer = WriterStage(
            configuration: .init(database: configuration.database, batchSize: configuration.batchSize, linger: configuration.linger),
            input: ingest, health: health
        )
        let feed = FeedServer(configuration: configuration.feed, sink: IngestSink(mailbox: ingest))
        let restartPolicy = RestartIntensity(maxRestarts: configuration.maxRestarts, period: configuration.restartPeriod)
        let pipeline = Supervisor(
            configuration: .init(name: "pipeline", strategy: .restForOne, intensity: restartPolicy),
            children: [ChildSpec(name: "writer", shutdownTimeout: configuration.shutdownTimeout, service: writer)],
            logger: logger
        )
        let feedSupervisor = Supervisor(
            configuration: .init(name: "feed", intensity: restartPolicy),
            children: [ChildSpec(name: "listener", shutdownTimeout: configuration.shutdownTimeout, service: feed)],
            logger: logger
        )
        let supervisorsBox = SupervisorsBox()
        let ops = OpsServer(host: configuration.opsHost, port: configuration.opsPort) { method, path, _ in
            switch (method, path) {
            case (.GET, "/healthz"):
                let statuses = supervisorsBox.statuses()
                let healthy = statuses.allSatisfy(\.isHealthy)
                return .full(status: healthy ? .ok : .serviceUnavailable, contentType: "text/plain", body: (healthy ? "ok\n" : "unhealthy\n") + statuses.map { "\($0)" }.joined(separator: "\n") + "\n")
            case (.GET, "/readyz"):
                let readiness = health.readiness
                return .full(status: readiness.ready ? .ok : .serviceUnavailable, contentType: "text/plain", body: readiness.detail + "\n")
            case (.GET, "/metrics"):
                return .full(status: .ok, contentType: "text/plain; version=0.0.4", body: metricsText?() ?? "")
            default:
                return .full(status: .notFound, contentType: "text/plain", body: "no such endpoint: \(method) \(path)\n")
            }
        }
        let opsSupervisor = Supervisor(
            configuration: .init(name: "ops", intensity: restartPolicy),
            children: [ChildSpec(name: "http", service: ops)],
            logger: logger
        )
        supervisorsBox.set([pipeline, feedSupervisor, opsSupervisor])
        self.feed = feed
        self.ops = ops
        self.health = health
        self.writer = writer
        self.ingest = ingest
        self.supervisors = [pipeline, feedSupervisor, opsSupervisor]
    }

    /// The service group to run: with signal handling for `vigil serve`, without for tests.
    public func serviceGroup(handleSignals: Bool) -> ServiceGroup {
        var groupConfiguration = ServiceGroupConfiguration(
            services: supervisors.map {
                .init(service: $0, successTerminationBehavior: .gracefullyShutdownGroup, failureTerminationBehavior: .cancelGroup)
            },
            gracefulShutdownSignals: handleSignals ? [.sigterm, .sigint] : [],
            logger: logger
        )
        groupConfiguration.maximumGracefulShutdownDuration = configuration.shutdownTimeout
        return ServiceGroup(configuration: groupConfiguration)
    }
}

/// Lets the ops router read the supervisors' status, which exist only after it.
final class SupervisorsBox: Sendable {
    private let supervisors = Mutex<[Supervisor]>([])
    func set(_ value: [Supervisor]) { supervisors.withLock { $0 = value } }
    func statuses() -> [SupervisorStatus] { supervisors.withLock { $0.map(\.status) } }
}
