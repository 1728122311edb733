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
    /// Detection state: ruleset, reference data, profiles and windows.
    public let detection: DetectionState
    /// Committed alerts, live.
    public let alerts: AlertBroadcaster
    /// Rule hot reload (SIGHUP, `POST /admin/reload-rules`).
    public let reloader: RulesReloader
    let supervisors: [Supervisor]
    let configuration: ServeConfiguration
    let logger: Logger

    /// Assembles the tree around a compiled ruleset. `metricsText` renders `/metrics`.
    public init(
        configuration: ServeConfiguration, ruleset: CompiledRuleset, rulesetFiles: [String] = [],
        logger: Logger = Logger(label: "vigil"), metricsText: (@Sendable () -> String)? = nil
    ) {
        self.configuration = configuration
        self.logger = logger
        let health = PipelineHealth(needsStateLoad: true)
        let alerts = AlertBroadcaster(limits: configuration.alertStream, database: configuration.database)
        let workerCount = max(1, configuration.detectionWorkers)
        let detection = DetectionState(ruleset: ruleset, baseCurrency: configuration.baseCurrency, partitionCount: workerCount)
        let toWriter = Mailbox<PipelineItem>(capacity: configuration.ingestQueueCapacity)
        let partitions = (0..<workerCount).map { _ in Mailbox<PipelineItem>(capacity: max(1, configuration.ingestQueueCapacity / workerCount)) }
        let dirtyProfiles = DirtyProfiles()
        let writer = WriterStage(
            configuration: .init(database: configuration.database, batchSize: configuration.batchSize, linger: configuration.linger),
            input: toWriter, health: health, alertHook: configuration.alertHook, broadcaster: alerts,
            dirtyProfiles: dirtyProfiles, faults: configuration.faults
        )
        let feed = FeedServer(
            configuration: configuration.feed,
            sink: IngestSink(partitions: partitions, writer: toWriter, partitionOf: { detection.partition(of: $0) })
        )
        let restartPolicy = RestartIntensity(maxRestarts: configuration.maxRestarts, period: configuration.restartPeriod)
        var pipelineChildren = [
            // Started before the writer and stopped after it, with a last checkpoint.
            ChildSpec(name: "profiles", shutdownTimeout: configuration.shutdownTimeout,
                      service: ProfileCheckpointer(dirty: dirtyProfiles, database: configuration.database,
                                                   interval: configuration.profileCheckpointInterval)),
            ChildSpec(name: "writer", shutdownTimeout: configuration.shutdownTimeout, service: writer),
            ChildSpec(name: "state", shutdownTimeout: .seconds(5),
                      service: DetectionBootstrap(state: detection, health: health, database: configuration.database, rulesetFiles: rulesetFiles,
                                                  dirtyProfiles: dirtyProfiles)),
        ]
        for index in 0..<workerCount {
            pipelineChildren.append(ChildSpec(
                name: "detect-\(index)", shutdownTimeout: configuration.shutdownTimeout,
                service: DetectionWorker(index: index, input: partitions[index], output: toWriter, state: detection,
                                         database: configuration.database, faults: configuration.faults)
            ))
        }
        for extra in configuration.extraPipelineChildren { pipelineChildren.append(extra) }
        let pipeline = Supervisor(
            configuration: .init(name: "pipeline", strategy: .oneForOne, intensity: restartPolicy),
            children: pipelineChildren,
            logger: logger
        )
        let feedSupervisor = Supervisor(
            configuration: .init(name: "feed", intensity: restartPolicy),
            children: [ChildSpec(name: "listener", shutdownTimeout: configuration.shutdownTimeout, service: feed)],
            logger: logger
        )
        let supervisorsBox = SupervisorsBox()
        let reloader = RulesReloader(state: detection, rulesPath: configuration.rulesPath, database: configuration.database,
                                     allowFailingTests: configuration.allowFailingRuleTests)
        let ops = OpsServer(host: configuration.opsHost, port: configuration.opsPort,
                            streams: ["/alerts/stream": alerts.streamRoute]) { method, path, _ in
            switch (method, path) {
            case (.GET, "/healthz"):
                let statuses = supervisorsBox.statuses()
                let healthy = statuses.allSatisfy(\.isHealthy)
                return .full(status: healthy ? .ok : .serviceUnavailable, contentType: "text/plain",
                             body: (healthy ? "ok\n" : "unhealthy\n") + statuses.map { "\($0)" }.joined(separator: "\n") + "\n")
            case (.GET, "/readyz"):
                let readiness = health.readiness
                return .full(status: readiness.ready ? .ok : .serviceUnavailable, contentType: "text/plain", body: readiness.detail + "\n")
            case (.GET, "/metrics"):
                return .full(status: .ok, contentType: "text/plain; version=0.0.4", body: metricsText?() ?? "")
            case (.POST, "/admin/reload-rules"):
                switch await reloader.reload() {
                case .reloaded(let version, let rebuilt):
                    return .full(status: .ok, contentType: "text/plain", body: "reloaded \(version)" + (rebuilt.isEmpty ? "" : "; rebuilt windows: \(rebuilt.joined(separator: ", "))") + "\n")
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
            configuration: .init(name: "ops", intensity: restartPolicy),
            children: [ChildSpec(name: "http", service: ops), ChildSpec(name: "sighup", service: ReloadOnHangup(reloader: reloader))],
            logger: logger
        )
        supervisorsBox.set([pipeline, feedSupervisor, opsSupervisor])
        self.feed = feed
        self.ops = ops
        self.health = health
        self.writer = writer
        self.detection = detection
        self.alerts = alerts
        self.reloader = reloader
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

    /// Status of the supervision tree (what `/healthz` reports).
    public var status: [SupervisorStatus] { supervisors.map(\.status) }
}

/// Lets the ops router read the supervisors' status, which exist only after it.
final class SupervisorsBox: Sendable {
    private let supervisors = Mutex<[Supervisor]>([])
    func set(_ value: [Supervisor]) { supervisors.withLock { $0 = value } }
    func statuses() -> [SupervisorStatus] { supervisors.withLock { $0.map(\.status) } }
}
