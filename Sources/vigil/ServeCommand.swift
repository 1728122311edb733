import ArgumentParser
import Foundation
import Logging
import Metrics
import Pipeline
import PostgresStore
import Prometheus
import RuleLanguage

/// `vigil serve`: runs the feed listener, the pipeline and the ops endpoint under one
/// supervision tree until SIGTERM/SIGINT.
struct ServeCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "serve",
        abstract: "Run the monitoring pipeline: feed listener, stages, PostgreSQL writer, ops endpoint.",
        discussion: """
            Every option can also be given as an environment variable (shown in brackets) \
            or as a key of the JSON file named by --config; a flag beats the environment, \
            which beats the file, which beats the default. PostgreSQL comes from \
            DATABASE_URL or the PG* variables. SIGTERM or SIGINT stops accepting, answers \
            every record already read, commits and exits 0.
            """
    )

    @Option(help: "JSON file of settings (keys as the long option names) [VIGIL_CONFIG].")
    var config: String?
    @Option(help: "Feed listen address [VIGIL_FEED_HOST] (default 0.0.0.0).")
    var feedHost: String?
    @Option(help: "Feed TCP port [VIGIL_FEED_PORT] (default 7400).")
    var feedPort: Int?
    @Option(help: "Ops HTTP address [VIGIL_OPS_HOST] (default 127.0.0.1: loopback only).")
    var opsHost: String?
    @Option(help: "Ops HTTP port for /healthz /readyz /metrics /alerts/stream /admin [VIGIL_OPS_PORT] (default 7401).")
    var opsPort: Int?
    @Option(help: "Folder of rules files [VIGIL_RULES] (default Rules).")
    var rules: String?
    @Option(help: "Records per database transaction [VIGIL_BATCH_SIZE] (default 4000).")
    var batchSize: Int?
    @Option(
        help:
            "Milliseconds a batch waits to fill after its first record [VIGIL_LINGER_MS] (default 0: a batch is what arrived while the previous one committed)."
    )
    var lingerMs: Int?
    @Option(help: "Capacity of the ingest mailbox, in records [VIGIL_QUEUE_CAPACITY] (default 10000).")
    var queueCapacity: Int?
    @Option(help: "Unanswered records per connection before it stops being read [VIGIL_MAX_UNANSWERED] (default 2048).")
    var maxUnanswered: Int?
    @Option(
        help:
            "Open feed connections at most; one more is answered too_many_connections and closed [VIGIL_MAX_CONNECTIONS] (default: the file-descriptor limit less 128 and a tenth of it, e.g. 794 at ulimit -n 1024)."
    )
    var maxConnections: Int?
    @Option(help: "Seconds a feed connection may send nothing, with no reply owed, before it is closed; 0 never [VIGIL_IDLE_TIMEOUT] (default 300).")
    var idleTimeout: Double?
    @Option(
        help:
            "Seconds a begun feed line may take to finish before it is nacked line_timeout and the connection closed; 0 never [VIGIL_LINE_TIMEOUT] (default 10)."
    )
    var lineTimeout: Double?
    @Option(help: "Base currency for amount_base [VIGIL_BASE_CURRENCY] (default EUR).")
    var baseCurrency: String?
    @Option(help: "Seconds a graceful shutdown may take [VIGIL_SHUTDOWN_TIMEOUT] (default 30).")
    var shutdownTimeout: Int?
    @Option(help: "Detection workers, each owning a partition of the accounts [VIGIL_WORKERS] (default: number of cores).")
    var workers: Int?
    @Option(help: "Seconds after its first change that an account profile is checkpointed [VIGIL_PROFILE_CHECKPOINT_SECONDS] (default 30).")
    var profileCheckpointSeconds: Int?
    @Option(help: "Restarts of a pipeline stage allowed per --restart-period before the process exits non-zero [VIGIL_MAX_RESTARTS] (default 20).")
    var maxRestarts: Int?
    @Option(help: "Seconds over which --max-restarts is counted [VIGIL_RESTART_PERIOD] (default 60).")
    var restartPeriod: Int?
    @Option(
        help:
            "Seconds a record may be dated before its account's newest transaction and still count in windows and profiles; later ones are stored with late=true and evaluated without window figures [VIGIL_ALLOWED_LATENESS] (default 300)."
    )
    var allowedLateness: Int?
    @Option(help: "Clients of GET /alerts/stream at once; more get 503 [VIGIL_MAX_STREAM_SUBSCRIBERS] (default 256).")
    var maxStreamSubscribers: Int?
    @Option(
        help:
            "Alerts a /alerts/stream client may be behind before it is disconnected (it resumes with Last-Event-ID) [VIGIL_STREAM_BUFFER] (default 1024)."
    )
    var streamBuffer: Int?
    @Flag(help: "Allow webhook endpoints on loopback addresses (demos and tests; refused by default against SSRF) [VIGIL_WEBHOOK_ALLOW_LOOPBACK=1].")
    var webhookAllowLoopback = false
    @Flag(help: "On reload (SIGHUP, POST /admin/reload-rules), load a ruleset even if its rule tests fail — loudly.")
    var allowFailingRuleTests = false
    @Flag(
        inversion: .prefixedNo,
        help: "Refuse rules (at start and on reload) with a rule that no test case in Rules/tests expects to hit.")
    var requireTests = true
    @Flag(
        help:
            "Four-eyes promotion: rules go live only through a proposal approved by a second admin (vigil rules propose/approve); SIGHUP and /admin/reload-rules are refused [VIGIL_FOUR_EYES=1]."
    )
    var fourEyes = false
    @Option(help: "Log level: trace, debug, info, notice, warning, error, critical [VIGIL_LOG_LEVEL] (default info).")
    var logLevel: String?
    @Option(help: "Feed TLS certificate chain, PEM [VIGIL_TLS_CERT]; reloaded on SIGHUP. Without it the feed is plain TCP.")
    var tlsCert: String?
    @Option(help: "Feed TLS private key, PEM [VIGIL_TLS_KEY].")
    var tlsKey: String?
    @Option(help: "CA (PEM) that feed clients' certificates must chain to: mutual TLS, clients without one are refused [VIGIL_TLS_CLIENT_CA].")
    var tlsClientCa: String?
    @Option(
        help:
            "Card numbers (PANs) in feed lines: reject (nack pan_not_allowed) or tokenize (replace by a keyed hash; needs the secret key) [VIGIL_PAN_POLICY] (default reject)."
    )
    var panPolicy: String?
    @Option(
        help:
            "File holding the secret key (base64 of 32 bytes) that seals webhook secrets and keys PAN tokens [VIGIL_SECRET_KEY_FILE]; or set VIGIL_SECRET_KEY."
    )
    var secretKeyFile: String?
    @Option(
        help:
            "A previous secret key, still accepted for opening sealed secrets during a rotation [VIGIL_PREVIOUS_SECRET_KEY_FILE]; or VIGIL_PREVIOUS_SECRET_KEY."
    )
    var previousSecretKeyFile: String?
    @Option(
        help:
            "How long after a record's arrival its decision may take, e.g. 50ms; past it the fallback answers [VIGIL_DECISION_BUDGET] (default: no budget)."
    )
    var decisionBudget: String?
    @Option(
        help:
            "The decision when detection cannot decide in time: allow (fail open), review or block (fail closed); required with --decision-budget [VIGIL_DECISION_FALLBACK]."
    )
    var decisionFallback: String?

    // HTTP access (tokens and roles: docs/security.md).
    @Flag(help: "Serve /metrics without a token, for a Prometheus scraper (default: a viewer token is needed) [VIGIL_METRICS_PUBLIC=1].")
    var metricsPublic = false
    @Option(help: "Largest HTTP request body accepted, in bytes; larger ones get 413 [VIGIL_MAX_REQUEST_BODY] (default 65536).")
    var maxRequestBody: Int?
    @Option(help: "PostgreSQL connections the investigator API uses at most [VIGIL_API_CONNECTIONS] (default 4).")
    var apiConnections: Int?

    @OptionGroup var iso8583: ISO8583Options
    @OptionGroup var highAvailability: HAOptions

    func run() async throws {
        let settings: Settings
        do {
            settings = try Settings(configPath: config ?? ProcessInfo.processInfo.environment["VIGIL_CONFIG"])
        } catch {
            throw CleanExit.failure("vigil serve: \(error)")
        }
        func value<T: LosslessStringConvertible>(_ flag: T?, _ env: String, _ key: String, _ fallback: T) throws -> T {
            if let flag { return flag }
            if let text = ProcessInfo.processInfo.environment[env] {
                guard let parsed = T(text) else { throw CleanExit.failure("vigil serve: \(env)=\(text) is not a valid value") }
                return parsed
            }
            if let text = settings.values[key] {
                guard let parsed = T(text) else {
                    throw CleanExit.failure("vigil serve: \"\(key)\": \(text) in \(settings.path ?? "config") is not a valid value")
                }
                return parsed
            }
            return fallback
        }

        let levelText = try value(logLevel, "VIGIL_LOG_LEVEL", "log-level", "info")
        guard let level = Logger.Level(rawValue: levelText) else {
            throw CleanExit.failure("vigil serve: unknown log level \(levelText) (use trace, debug, info, notice, warning, error or critical)")
        }
        LoggingSystem.bootstrap { label in
            var handler = StreamLogHandler.standardError(label: label)
            handler.logLevel = level
            return handler
        }
        let registry = PrometheusCollectorRegistry()
        MetricsSystem.bootstrap(PrometheusMetricsFactory(registry: registry))

        var configuration = ServeConfiguration()
        configuration.feed.host = try value(feedHost, "VIGIL_FEED_HOST", "feed-host", configuration.feed.host)
        configuration.feed.port = try value(feedPort, "VIGIL_FEED_PORT", "feed-port", configuration.feed.port)
        configuration.opsHost = try value(opsHost, "VIGIL_OPS_HOST", "ops-host", configuration.opsHost)
        configuration.opsPort = try value(opsPort, "VIGIL_OPS_PORT", "ops-port", configuration.opsPort)
        configuration.rulesPath = try value(rules, "VIGIL_RULES", "rules", configuration.rulesPath)
        configuration.batchSize = try value(batchSize, "VIGIL_BATCH_SIZE", "batch-size", configuration.batchSize)
        configuration.linger = .milliseconds(try value(lingerMs, "VIGIL_LINGER_MS", "linger-ms", 0))
        configuration.ingestQueueCapacity = try value(queueCapacity, "VIGIL_QUEUE_CAPACITY", "queue-capacity", configuration.ingestQueueCapacity)
        configuration.feed.maximumUnansweredPerConnection = try value(
            maxUnanswered, "VIGIL_MAX_UNANSWERED", "max-unanswered", configuration.feed.maximumUnansweredPerConnection)
        configuration.feed.maximumConnections = try value(
            maxConnections, "VIGIL_MAX_CONNECTIONS", "max-connections", configuration.feed.maximumConnections)
        configuration.feed.idleTimeout = try Self.timeout(value(idleTimeout, "VIGIL_IDLE_TIMEOUT", "idle-timeout", 300), "idle-timeout")
        configuration.feed.lineTimeout = try Self.timeout(value(lineTimeout, "VIGIL_LINE_TIMEOUT", "line-timeout", 10), "line-timeout")
        configuration.baseCurrency = try value(baseCurrency, "VIGIL_BASE_CURRENCY", "base-currency", configuration.baseCurrency)
        configuration.shutdownTimeout = .seconds(try value(shutdownTimeout, "VIGIL_SHUTDOWN_TIMEOUT", "shutdown-timeout", 30))
        configuration.feed.drainTimeout = configuration.shutdownTimeout / 3
        configuration.detectionWorkers = try value(workers, "VIGIL_WORKERS", "workers", configuration.detectionWorkers)
        let lateness = try value(allowedLateness, "VIGIL_ALLOWED_LATENESS", "allowed-lateness", 300)
        guard lateness >= 0 else { throw CleanExit.failure("vigil serve: allowed-lateness must be 0 or more seconds, not \(lateness)") }
        configuration.allowedLateness = .seconds(lateness)
        configuration.maxRestarts = try value(maxRestarts, "VIGIL_MAX_RESTARTS", "max-restarts", configuration.maxRestarts)
        configuration.restartPeriod = .seconds(try value(restartPeriod, "VIGIL_RESTART_PERIOD", "restart-period", 60))
        configuration.alertStream = .init(
            maxSubscribers: try value(
                maxStreamSubscribers, "VIGIL_MAX_STREAM_SUBSCRIBERS", "max-stream-subscribers", configuration.alertStream.maxSubscribers),
            bufferEvents: try value(streamBuffer, "VIGIL_STREAM_BUFFER", "stream-buffer", configuration.alertStream.bufferEvents))
        if let plan = ProcessInfo.processInfo.environment["VIGIL_TEST_FAULTS"] {
            guard let faults = FaultInjection(parsing: plan) else {
                throw CleanExit.failure("vigil serve: VIGIL_TEST_FAULTS=\(plan) is not stage=count[,stage=count] (count a number or 'always')")
            }
            configuration.faults = faults
        }
        configuration.allowFailingRuleTests = allowFailingRuleTests
        configuration.requireRuleTests = requireTests
        configuration.fourEyes = fourEyes || ProcessInfo.processInfo.environment["VIGIL_FOUR_EYES"] == "1" || settings.values["four-eyes"] == "true"
        configuration.http.metricsPublic =
            metricsPublic || ProcessInfo.processInfo.environment["VIGIL_METRICS_PUBLIC"] == "1" || settings.values["metrics-public"] == "true"
        configuration.http.maxBodyBytes = try value(maxRequestBody, "VIGIL_MAX_REQUEST_BODY", "max-request-body", configuration.http.maxBodyBytes)
        configuration.http.apiConnections = try value(apiConnections, "VIGIL_API_CONNECTIONS", "api-connections", configuration.http.apiConnections)
        guard (1...64).contains(configuration.http.apiConnections) else {
            throw ValidationError("--api-connections must be from 1 to 64 (got \(configuration.http.apiConnections))")
        }
        let chosenFallback = try value(decisionFallback, "VIGIL_DECISION_FALLBACK", "decision-fallback", "")
        configuration.decisions = try Self.decisionSettings(
            budget: try value(decisionBudget, "VIGIL_DECISION_BUDGET", "decision-budget", "").nilIfEmpty,
            fallback: chosenFallback.nilIfEmpty)
        configuration.profileCheckpointInterval = .seconds(
            max(
                1,
                try value(
                    profileCheckpointSeconds, "VIGIL_PROFILE_CHECKPOINT_SECONDS", "profile-checkpoint-seconds",
                    highAvailability.defaultCheckpointSeconds(settings: settings))))
        let trust = TrustOptions(
            tlsCert: tlsCert, tlsKey: tlsKey, tlsClientCA: tlsClientCa, panPolicy: panPolicy,
            secretKeyFile: secretKeyFile, previousSecretKeyFile: previousSecretKeyFile)
        let keyring = try trust.keyring(settings: settings, command: "serve")
        try trust.apply(to: &configuration, keyring: keyring, settings: settings)
        try await TrustOptions.refusePlaintextSecrets(database: configuration.database)
        configuration.recordFeedSessions()
        try iso8583.apply(to: &configuration, settings: settings)
        try highAvailability.apply(to: &configuration, settings: settings)
        configuration.enableWebhooks(
            allowLoopback: webhookAllowLoopback || ProcessInfo.processInfo.environment["VIGIL_WEBHOOK_ALLOW_LOOPBACK"] == "1",
            keyring: keyring)
        guard configuration.batchSize > 0, configuration.ingestQueueCapacity > 0, configuration.feed.maximumUnansweredPerConnection > 0,
            configuration.feed.maximumConnections > 0
        else {
            throw CleanExit.failure("vigil serve: batch-size, queue-capacity, max-unanswered and max-connections must be positive")
        }

        let logger = Logger(label: "vigil")
        let loaded = RulesetLoader.load(paths: [configuration.rulesPath])
        guard let ruleset = loaded.ruleset else {
            for diagnostic in loaded.diagnostics {
                FileHandle.standardError.write(Data(diagnostic.rendered(sources: loaded.sources).utf8))
            }
            throw CleanExit.failure(
                "vigil serve: the rules in \(configuration.rulesPath) do not compile (see above); fix them or point --rules elsewhere")
        }
        if requireTests {
            let results = RuleTestRunner.run(ruleset: ruleset, files: RuleTestRunner.testFiles(in: [configuration.rulesPath]))
            let untested = RuleTestRunner.untested(ruleset, results: results)
            guard untested.isEmpty else {
                throw CleanExit.failure(
                    "vigil serve: rule(s) with no test case that expects them to hit: \(untested.joined(separator: ", ")); "
                        + "add cases beside the rules (`vigil rules test` lists them) or start with --no-require-tests")
            }
        }
        logger.info(
            "ruleset loaded", metadata: ["version": "\(ruleset.version)", "rules": "\(ruleset.rules.count)", "windows": "\(ruleset.windows.count)"])
        Self.logDecisions(configuration.decisions, chosen: !chosenFallback.isEmpty, logger: logger)
        // Checked by the server once PostgreSQL answers (it may be down now: serve waits for it).
        configuration.schemasDirectory = URL(fileURLWithPath: ProcessInfo.processInfo.environment["VIGIL_SCHEMAS"] ?? "Schemas")

        let (served, servedFiles) = try await Self.servedRuleset(
            folder: ruleset, files: loaded.sources.keys.sorted(), fourEyes: configuration.fourEyes, database: configuration.database, logger: logger)
        let server = VigilServer(configuration: configuration, ruleset: served, rulesetFiles: servedFiles, logger: logger) {
            var buffer: [UInt8] = []
            registry.emit(into: &buffer)
            return String(decoding: buffer, as: UTF8.self)
        }
        do {
            try await server.serviceGroup(handleSignals: true).run()
        } catch {
            logger.critical("vigil serve stopped on an unrecoverable error", metadata: ["error": "\(error)"])
            throw CleanExit.failure("vigil serve: \(error)")
        }
        logger.info("vigil serve stopped cleanly")
    }

    /// Seconds as a timeout: 0 turns it off; negative or not finite is refused.
    private static func timeout(_ seconds: Double, _ name: String) throws -> Duration? {
        guard seconds.isFinite, seconds >= 0, seconds <= 31_536_000 else {
            throw CleanExit.failure("vigil serve: \(name) \(seconds) must be a number of seconds from 0 (off) to 31536000")
        }
        return seconds == 0 ? nil : .milliseconds(Int64((seconds * 1000).rounded()))
    }
}

/// Settings read from a `--config` JSON file: string values by option name.
struct Settings {
    var path: String?
    var values: [String: String] = [:]

    init(configPath: String?) throws {
        path = configPath
        guard let configPath else { return }
        guard let data = FileManager.default.contents(atPath: configPath) else {
            throw SettingsError(message: "cannot read the config file \(configPath)")
        }
        guard let object = try? JSONSerialization.jsonObject(with: data) as? [String: Any] else {
            throw SettingsError(message: "\(configPath) is not a JSON object of settings")
        }
        let known: Set<String> = [
            "feed-host", "feed-port", "ops-host", "ops-port", "rules", "batch-size", "linger-ms", "queue-capacity",
            "max-unanswered", "base-currency", "shutdown-timeout", "log-level", "workers", "max-restarts", "restart-period",
            "profile-checkpoint-seconds",
            "allowed-lateness", "max-connections", "idle-timeout", "line-timeout",
            "tls-cert", "tls-key", "tls-client-ca", "pan-policy", "secret-key-file", "previous-secret-key-file",
            "max-stream-subscribers", "stream-buffer", "decision-budget", "decision-fallback", "four-eyes",
        ]
        for (key, raw) in object {
            guard known.contains(key) || ISO8583Options.settingsKeys.contains(key) || HAOptions.settingsKeys.contains(key) else {
                throw SettingsError(message: "\(configPath): unknown setting \"\(key)\" (known: \(known.sorted().joined(separator: ", ")))")
            }
            values[key] = "\(raw)"
        }
    }
}

struct SettingsError: Error, CustomStringConvertible {
    var message: String
    var description: String { message }
}
