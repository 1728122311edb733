import FeedServer
import Logging
import NIOHTTP1
import PostgresStore
import RuleLanguage
import ServiceLifecycle
import Supervision
import Synchronization

/// The whole of `vigil serve`: the stages wired into one supervision tree.
///
/// ```
/// ServiceGroup (signals, graceful shutdown in reverse order)
/// ├── start-up check: waits for PostgreSQL, checks the schema (then ends)
/// ├── pipeline supervisor (one-for-one): profiles, writer, state, detect-N, webhooks
/// ├── feed supervisor: TCP listener ──► partition mailboxes (FeedRecord) ──► detect-N ──► writer mailbox (PipelineItem)
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
    /// Detection state: ruleset, reference data, profiles and windows.
    public let detection: DetectionState
    /// Committed alerts, live.
    public let alerts: AlertBroadcaster
    /// Rule hot reload (SIGHUP, `POST /admin/reload-rules`).
    public let reloader: RulesReloader
    /// Transaction ids between the feed and their commit (empty when all is answered).
    public let inFlight: InFlightIDs
    let supervisors: [Supervisor]
    /// Waits for PostgreSQL and checks its schema before the stages write (not supervised:
    /// a schema that is behind ends the process with the fix in the message).
    let startupCheck: StartupCheck
    let configuration: ServeConfiguration
    let logger: Logger

    /// Assembles the tree around a compiled ruleset. `metricsText` renders `/metrics`.
    public init(
        configuration: ServeConfiguration, ruleset: CompiledRuleset, rulesetFiles: [String] = [],
        logger: Logger = Logger(label: "vigil"), metricsText: (@Sendable () -> String)? = nil
    ) {
        self.configuration = configuration
        self.logger = logger
        let health = PipelineHealth(needsStateLoad: true, verified: false)
        let probe = DatabaseProbe(database: configuration.database)
        let alerts = AlertBroadcaster(limits: configuration.alertStream, database: configuration.database)
        let workerCount = max(1, configuration.detectionWorkers)
        let detection = DetectionState(
            ruleset: ruleset, baseCurrency: configuration.baseCurrency, partitionCount: workerCount,
            allowedLateness: configuration.allowedLateness)
        let toWriter = Mailbox<PipelineItem>(capacity: configuration.ingestQueueCapacity)
        let partitions = (0..<workerCount).map { _ in Mailbox<FeedRecord>(capacity: max(1, configuration.ingestQueueCapacity / workerCount)) }
        let dirtyProfiles = DirtyProfiles()
        let dirtyEntities = DirtyEntities.histories()
        let inFlight = InFlightIDs()
        let writer = WriterStage(
            configuration: .init(database: configuration.database, batchSize: configuration.batchSize, linger: configuration.linger),
            input: toWriter, health: health, alertHook: configuration.alertHook, broadcaster: alerts,
            dirtyProfiles: dirtyProfiles, dirtyEntities: dirtyEntities, inFlight: inFlight, faults: configuration.faults
        )
        let feed = FeedServer(
            configuration: configuration.feed,
            sink: IngestSink(partitions: partitions, writer: toWriter, partitionOf: { detection.partition(of: $0) }, inFlight: inFlight)
        )
        let restartPolicy = RestartIntensity(maxRestarts: configuration.maxRestarts, period: configuration.restartPeriod)
        // Losing PostgreSQL is an outage to wait out (capped backoff, /readyz 503), not a
        // crash: it never spends the restart intensity, which is kept for real crash loops.
        let isTransient: @Sendable (any Error) -> Bool = { ($0 as? PostgresError)?.isConnectionError == true }
        var pipelineChildren = [
            // Started before the writer and stopped after it, with a last checkpoint.
            ChildSpec(
                name: "profiles", shutdownTimeout: configuration.shutdownTimeout,
                service: ProfileCheckpointer(
                    dirty: dirtyProfiles, entities: dirtyEntities, database: configuration.database,
                    interval: configuration.profileCheckpointInterval)),
            ChildSpec(name: "writer", shutdownTimeout: configuration.shutdownTimeout, service: writer),
            ChildSpec(
                name: "state", shutdownTimeout: .seconds(5),
                service: DetectionBootstrap(
                    state: detection, health: health, database: configuration.database, rulesetFiles: rulesetFiles,
                    dirtyProfiles: dirtyProfiles, dirtyEntities: dirtyEntities)),
        ]
        for index in 0..<workerCount {
            pipelineChildren.append(
                ChildSpec(
                    name: "detect-\(index)", shutdownTimeout: configuration.shutdownTimeout,
                    service: DetectionWorker(
                        index: index, input: partitions[index], output: toWriter, state: detection,
                        database: configuration.database, faults: configuration.faults)
                ))
        }
        for extra in configuration.extraPipelineChildren { pipelineChildren.append(extra) }
        let pipeline = Supervisor(
            configuration: .init(name: "pipeline", strategy: .oneForOne, intensity: restartPolicy, isTransient: isTransient),
            children: pipelineChildren,
            logger: logger
        )
        let feedSupervisor = Supervisor(
            configuration: .init(name: "feed", intensity: restartPolicy, isTransient: isTransient),
            children: [ChildSpec(name: "listener", shutdownTimeout: configuration.shutdownTimeout, service: feed)],
            logger: logger
        )
        let supervisorsBox = SupervisorsBox()
        let reloader = RulesReloader(
            state: detection, rulesPath: configuration.rulesPath, database: configuration.database,
            allowFailingTests: configuration.allowFailingRuleTests)
        // Never silent about plain TCP: /readyz says how the feed is carried.
        let feedTransport = configuration.feed.transport.rawValue
        let ops = OpsServer(
            host: configuration.opsHost, port: configuration.opsPort,
            streams: ["/alerts/stream": alerts.streamRoute]
        ) { method, path, _ in
            switch (method, path) {
            case (.GET, "/healthz"):
                // Alive: no supervisor has given up. A stage retrying an unreachable
                // database is alive (that is /readyz's business), so a liveness probe
                // never kills a process that is waiting out an outage.
                let liveness = PipelineHealth.liveness(supervisorsBox.statuses())
                return .full(status: liveness.alive ? .ok : .serviceUnavailable, contentType: "application/json", body: liveness.body)
            case (.GET, "/readyz"):
                let readiness = await health.check(probe: probe)
                return .full(
                    status: readiness.ready ? .ok : .serviceUnavailable, contentType: "application/json",
                    body: PipelineHealth.readyBody(readiness, extra: [("feed_transport", feedTransport)]))
            case (.GET, "/metrics"):
                return .full(status: .ok, contentType: "text/plain; version=0.0.4", body: metricsText?() ?? "")
            case (.POST, "/admin/reload-rules"):
                switch await reloader.reload() {
                case .reloaded(let version, let rebuilt):
                    return .full(
                        status: .ok, contentType: "text/plain",
                        body: "reloaded \(version)" + (rebuilt.isEmpty ? "" : "; rebuilt windows: \(rebuilt.joined(separator: ", "))") + "\n")
                case .unchanged(let version):
                    return .full(status: .ok, contentType: "text/plain", body: "unchanged \(version)\n")
                case .refused(let reason):
                    return .full(status: .unprocessableEntity, contentType: "text/plain", body: "refused; the running ruleset stays\n\(reason)\n")
                }
            default:
                return .full(status: .notFound, contentType: "text/plain", body: "no such endpoint: \(method) \(path)\n")
            }
        }
        let opsSupervisor = Supervisor(
            configuration: .init(name: "ops", intensity: restartPolicy, isTransient: isTransient),
            children: [ChildSpec(name: "http", service: ops), ChildSpec(name: "sighup", service: ReloadOnHangup(reloader: reloader, feed: feed))],
            logger: logger
        )
        supervisorsBox.set([pipeline, feedSupervisor, opsSupervisor])
        self.feed = feed
        self.ops = ops
        self.health = health
        self.writer = writer
        self.detection = detection
        self.inFlight = inFlight
        self.alerts = alerts
        self.reloader = reloader
        self.supervisors = [pipeline, feedSupervisor, opsSupervisor]
        self.startupCheck = StartupCheck(database: configuration.database, schemas: configuration.schemasDirectory, health: health)
    }

    /// The service group to run: with signal handling for `vigil serve`, without for tests.
    public func serviceGroup(handleSignals: Bool) -> ServiceGroup {
        var groupConfiguration = ServiceGroupConfiguration(
            services: [.init(service: startupCheck, successTerminationBehavior: .ignore, failureTerminationBehavior: .cancelGroup)]
                + supervisors.map {
                    .init(service: $0, successTerminationBehavior: .gracefullyShutdownGroup, failureTerminationBehavior: .cancelGroup)
                },
            gracefulShutdownSignals: handleSignals ? [.sigterm, .sigint] : [],
            logger: logger
        )
        groupConfiguration.maximumGracefulShutdownDuration = configuration.shutdownTimeout
        return ServiceGroup(configuration: groupConfiguration)
    }

    /// Status of the supervision tree (what `/healthz` reports).
    public var status: [SupervisorStatus] { supervisors.map(\.status) }
}

/// Lets the ops router read the supervisors' status, which exist only after it.
final class SupervisorsBox: Sendable {
    private let supervisors = Mutex<[Supervisor]>([])
    func set(_ value: [Supervisor]) { supervisors.withLock { $0 = value } }
    func statuses() -> [SupervisorStatus] { supervisors.withLock { $0.map(\.status) } }
}
