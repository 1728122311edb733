import Access
import Detection
import FeedProtocol
import FeedServer
import HTTPAPI
import Logging
import Metrics
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
/// └── ops supervisor: HTTP on Hummingbird (/healthz /readyz /metrics /alerts/stream /admin/... /api/v1/...), SIGHUP reload,
///     approvals (`--four-eyes`: approved proposals made live)
/// ```
/// Shutdown runs in reverse: the ops endpoint, then the feed (stop reading, answer
/// what was read), then the pipeline (store what is queued), so nothing read is lost.
public final class VigilServer: Sendable {
    /// The feed listener (for its bound port in tests).
    public let feed: FeedServer
    /// The ISO 8583 listener, when configured (for its bound port in tests).
    public let iso8583: FeedServer?
    /// ISO 20022 credit transfers into the ingest path (`POST /api/v1/iso20022` calls its `handle`).
    public let iso20022: ISO20022Intake
    /// The HTTP endpoint (for its bound port in tests).
    public let ops: HTTPServer
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
    /// Every stored id, as the detection workers ask it (loaded shortly after start).
    public let storedIDs: StoredIDFilter
    /// Raised once `storedIDs` is loaded.
    public let storedIDsLoaded: OneShotSignal
    /// With `--ha`: whether this node leads (nil: it always does).
    public let leadership: Leadership?
    /// Loads detection state (and, on an `--ha` standby, keeps it current).
    let bootstrap: DetectionBootstrap
    /// With `--ha`: takes and renews the lease (first in the group, so it stops last).
    let leaseKeeper: LeaseKeeper?
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
        var configuration = configuration
        let leadership = configuration.highAvailability.map { Leadership(settings: $0) }
        if let leadership {
            // A standby's feed answers not_leader; only the leader's is served.
            configuration.feed.admission = { leadership.refusal() }
            configuration.iso8583?.admission = { leadership.refusal() }
        }
        self.configuration = configuration
        self.logger = logger
        let health = PipelineHealth(needsStateLoad: true, verified: false, leadership: leadership)
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
        let fallbacks = FallbackLedger()
        let storedIDs = StoredIDFilter()
        let storedIDsLoaded = OneShotSignal()
        let writer = WriterStage(
            configuration: .init(database: configuration.database, batchSize: configuration.batchSize, linger: configuration.linger),
            input: toWriter, health: health, alertHook: configuration.alertHook, broadcaster: alerts,
            dirtyProfiles: dirtyProfiles, dirtyEntities: dirtyEntities, inFlight: inFlight, fallbacks: fallbacks, storedIDs: storedIDs,
            leadership: leadership, faults: configuration.faults
        )
        let sink = IngestSink(
            partitions: partitions, writer: toWriter, partitionOf: { detection.partition(of: $0) }, inFlight: inFlight,
            notEvaluated: configuration.decisions.notEvaluated)
        let feed = FeedServer(configuration: configuration.feed, sink: sink)
        // Same ingest path, limits and TLS as the feed; its reversals have a store of their own.
        let iso8583 = Self.iso8583Listener(configuration, sink: sink, health: health, detection: detection, leadership: leadership)
        let restartPolicy = RestartIntensity(maxRestarts: configuration.maxRestarts, period: configuration.restartPeriod)
        // Losing PostgreSQL is an outage to wait out (capped backoff, /readyz 503), not a
        // crash: it never spends the restart intensity, which is kept for real crash loops.
        let isTransient: @Sendable (any Error) -> Bool = { ($0 as? PostgresError)?.isConnectionError == true }
        let backlogs = (0..<workerCount).map { _ in DetectionBacklog() }
        let bootstrap = DetectionBootstrap(
            state: detection, health: health, database: configuration.database, rulesetFiles: rulesetFiles,
            dirtyProfiles: dirtyProfiles, dirtyEntities: dirtyEntities, backlogs: backlogs, fallbacks: fallbacks,
            leadership: leadership)
        var pipelineChildren = [
            // Started before the writer and stopped after it, with a last checkpoint.
            ChildSpec(
                name: "profiles", shutdownTimeout: configuration.shutdownTimeout,
                service: ProfileCheckpointer(
                    dirty: dirtyProfiles, entities: dirtyEntities, database: configuration.database,
                    interval: configuration.profileCheckpointInterval, leadership: leadership)),
            ChildSpec(name: "writer", shutdownTimeout: configuration.shutdownTimeout, service: writer),
            ChildSpec(name: "state", shutdownTimeout: .seconds(5), service: bootstrap),
            // Loads once (restarted only after an error), beside the stages.
            ChildSpec(
                name: "stored-ids", restart: .transient, shutdownTimeout: .seconds(5),
                service: StoredIDLoader(filter: storedIDs, database: configuration.database, health: health, loaded: storedIDsLoaded)),
        ]
        for index in 0..<workerCount {
            pipelineChildren.append(
                ChildSpec(
                    name: "detect-\(index)", shutdownTimeout: configuration.shutdownTimeout,
                    service: DetectionWorker(
                        index: index, input: partitions[index], output: toWriter, state: detection,
                        database: configuration.database, backlog: backlogs[index], fallbacks: fallbacks, storedIDs: storedIDs,
                        notEvaluated: configuration.decisions.notEvaluated, faults: configuration.faults)
                ))
        }
        // After the workers, so they stop first and hand on every fallback they marked.
        if let budget = configuration.decisions.budget {
            for index in 0..<workerCount {
                pipelineChildren.append(
                    ChildSpec(
                        name: "deadline-\(index)", shutdownTimeout: configuration.shutdownTimeout,
                        service: DecisionDeadline(
                            input: partitions[index], backlog: backlogs[index], output: toWriter, budget: budget,
                            fallback: configuration.decisions.fallback)))
            }
        }
        for extra in configuration.extraPipelineChildren { pipelineChildren.append(extra) }
        if let iso8583 {
            pipelineChildren.append(ChildSpec(name: "reversals", shutdownTimeout: configuration.shutdownTimeout, service: iso8583.reversals))
        }
        if let leadership {
            // A standby runs none of the pipeline but the state, which it keeps warm (and
            // writes nothing): no writer, detection, checkpoints or webhook delivery.
            pipelineChildren = pipelineChildren.map { child in
                guard child.name != "state" else { return child }
                var child = child
                child.service = LeaderOnly(service: child.service, leadership: leadership)
                return child
            }
        }
        let pipeline = Supervisor(
            configuration: .init(name: "pipeline", strategy: .oneForOne, intensity: restartPolicy, isTransient: isTransient),
            children: pipelineChildren,
            logger: logger
        )
        let feedSupervisor = Supervisor(
            configuration: .init(name: "feed", intensity: restartPolicy, isTransient: isTransient),
            children: [ChildSpec(name: "listener", shutdownTimeout: configuration.shutdownTimeout, service: feed)]
                + (iso8583.map { [ChildSpec(name: "iso8583", shutdownTimeout: configuration.shutdownTimeout, service: $0.listener)] } ?? []),
            logger: logger
        )
        let supervisorsBox = SupervisorsBox()
        let reloader = RulesReloader(
            state: detection, rulesPath: configuration.rulesPath, database: configuration.database,
            allowFailingTests: configuration.allowFailingRuleTests, requireTests: configuration.requireRuleTests,
            fourEyes: configuration.fourEyes)
        // Never silent about plain TCP: /readyz says how the feed is carried.
        let feedTransport = configuration.feed.transport.rawValue
        let iso20022 = ISO20022Intake(
            sink: sink, decoder: FeedDecoder(configuration: configuration.feed.decoder), panPolicy: configuration.feed.panPolicy,
            admission: configuration.feed.admission)
        var apiDatabase = configuration.database
        apiDatabase.applicationName = "vigil-api"
        let apiPool = PostgresPool(configuration: apiDatabase, size: configuration.http.apiConnections)
        let routes = OpsRoutes(
            supervisors: supervisorsBox, health: health, probe: probe, feedTransport: feedTransport, metricsText: metricsText,
            metricsPublic: configuration.http.metricsPublic, reloader: reloader, alerts: alerts,
            access: AccessStore(database: configuration.database), iso20022: iso20022)
        let investigator = InvestigatorRoutes(pool: apiPool, access: routes.access)
        let httpLogger = Logger(label: "vigil.http")
        let ops = HTTPServer(
            configuration: .init(
                host: configuration.opsHost, port: configuration.opsPort, maxBodyBytes: configuration.http.maxBodyBytes,
                prepareListener: { listener in
                    // Out of descriptors, back off instead of spinning on accept (see the handler).
                    try? await listener.eventLoop.submit {
                        try listener.pipeline.syncOperations.addHandler(
                            AcceptErrorHandler(
                                listener: "ops endpoint", logger: httpLogger, counter: Counter(label: "vigil_ops_accept_errors_total")),
                            position: .first)
                    }.get()
                }),
            logger: httpLogger
        ) { router, streams in
            routes.add(to: router, streams: streams)
            investigator.add(to: router)
        }
        let opsSupervisor = Supervisor(
            configuration: .init(name: "ops", intensity: restartPolicy, isTransient: isTransient),
            children: [
                ChildSpec(name: "http", service: ops),
                ChildSpec(name: "sighup", service: ReloadOnHangup(reloader: reloader, feed: feed, iso8583: iso8583?.listener)),
                ChildSpec(
                    name: "revoked-streams",
                    service: RevokedStreamCloser(database: configuration.database, streams: ops.streams, logger: httpLogger)),
            ] + ProposalActivator.children(reloader: reloader, configuration: configuration),
            logger: logger
        )
        supervisorsBox.set([pipeline, feedSupervisor, opsSupervisor])
        self.feed = feed
        self.iso8583 = iso8583?.listener
        self.iso20022 = iso20022
        self.ops = ops
        self.health = health
        self.bootstrap = bootstrap
        self.writer = writer
        self.detection = detection
        self.inFlight = inFlight
        self.storedIDs = storedIDs
        self.storedIDsLoaded = storedIDsLoaded
        self.leadership = leadership
        self.leaseKeeper = leadership.map { LeaseKeeper(leadership: $0, database: configuration.database, logger: logger) }
        self.alerts = alerts
        self.reloader = reloader
        self.supervisors = [pipeline, feedSupervisor, opsSupervisor]
        self.startupCheck = StartupCheck(database: configuration.database, schemas: configuration.schemasDirectory, health: health)
    }

    /// The service group to run: with signal handling for `vigil serve`, without for tests.
    public func serviceGroup(handleSignals: Bool) -> ServiceGroup {
        // The lease keeper first: stopped last, it renews while the pipeline drains.
        let lease: [ServiceGroupConfiguration.ServiceConfiguration] =
            leaseKeeper.map { [.init(service: $0, successTerminationBehavior: .gracefullyShutdownGroup, failureTerminationBehavior: .cancelGroup)] }
            ?? []
        var groupConfiguration = ServiceGroupConfiguration(
            services: lease + [.init(service: startupCheck, successTerminationBehavior: .ignore, failureTerminationBehavior: .cancelGroup)]
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
