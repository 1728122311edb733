import FeedServer
import Foundation
import PostgresStore
import Supervision

/// Everything `vigil serve` can be told; each value has a documented default
/// (see `docs/operations.md`).
public struct ServeConfiguration: Sendable {
    /// The feed listener (address, port 7400, line limit, per-connection bounds).
    public var feed: FeedServerConfiguration
    /// The ISO 8583 listener (`--iso8583-port`): the feed's settings with its own port
    /// and wire format; nil (the default) runs none.
    public var iso8583: FeedServerConfiguration?
    /// Address and port of the ops endpoint (`/healthz`, `/readyz`, `/metrics`), 7401;
    /// loopback only unless configured otherwise; every endpoint but the probes needs a token.
    public var opsHost: String
    public var opsPort: Int
    /// Where the rules are (a folder of `.rules` files), `Rules`.
    public var rulesPath: String
    /// Where PostgreSQL is.
    public var database: PostgresConfiguration
    /// Records per database transaction, at most (4000: fewer commits, each fsync amortized).
    public var batchSize: Int
    /// How long the writer waits for a batch to fill after its first record (0: group commit).
    public var linger: Duration
    /// Capacity of the mailbox between ingest and the writer (10,000 records).
    public var ingestQueueCapacity: Int
    /// The currency `amount_base` is expressed in (EUR).
    public var baseCurrency: String
    /// How long a graceful shutdown may take before the rest is cancelled (30 s).
    public var shutdownTimeout: Duration
    /// Restarts of a pipeline stage allowed within `restartPeriod` before the process
    /// gives up and exits non-zero (20 in 60 s; backoff 100 ms doubling to 5 s).
    public var maxRestarts: Int
    public var restartPeriod: Duration
    /// Detection workers, each owning a partition of the accounts (cores).
    public var detectionWorkers: Int
    /// Called inside the batch transaction with the batch's new alerts, each with its
    /// transaction's JSON (webhook outbox rows).
    public var alertHook:
        (@Sendable (_ alerts: [(alert: CommittedAlert, transactionJSON: String)], _ db: isolated PostgresConnection) throws -> Void)?
    /// More children of the pipeline supervisor (the webhook dispatcher).
    public var extraPipelineChildren: [ChildSpec]
    /// How often changed account profiles are written (30 s); what a crash loses in
    /// between is rebuilt at start from the transactions stored after the checkpoint.
    /// Longer means fewer rewrites of wide profile rows, and a longer replay at start.
    public var profileCheckpointInterval: Duration
    /// Load a reloaded ruleset even when its rule tests fail (loudly). Off by default.
    public var allowFailingRuleTests: Bool
    /// Refuse a reloaded ruleset with a rule no test case expects to hit. Off in the
    /// library (tests build rulesets without tests); `vigil serve` turns it on by default.
    public var requireRuleTests = false
    /// Four-eyes promotion (`--four-eyes`): reloads from the rules folder are refused; an
    /// approved proposal (`vigil rules approve`) is made live instead. Off by default.
    public var fourEyes = false
    /// How far before its account's newest transaction a record may be dated and still
    /// count in windows and the profile (5 minutes); later ones are stored, flagged and
    /// evaluated without window figures.
    public var allowedLateness: Duration
    /// The folder of migrations the database schema must be current with at start
    /// (`Schemas`); nil skips the check.
    public var schemasDirectory: URL?
    /// How the feed is carried (`tcp`, `tls`, `mtls`), for the log and `/readyz`.
    public var feedTransport: FeedTransport { feed.transport }
    /// `/alerts/stream` bounds: subscribers at once (256), alerts each may be behind (1024).
    public var alertStream: AlertBroadcaster.Limits
    /// HTTP access beyond address and port (`--metrics-public`, the body limit).
    public var http: HTTPAccess
    /// Test-only: stages that throw on purpose (see `FaultInjection`).
    public var faults: FaultInjection
    /// The decision latency budget and the fallback answer (no budget, `review`).
    public var decisions = DecisionSettings()
    /// Active/standby with a lease in PostgreSQL (`--ha`); nil (the default) always leads.
    public var highAvailability: HighAvailability? = nil

    /// The defaults: the feed on all interfaces (plain TCP, warned about), ops on loopback.
    public init(database: PostgresConfiguration = .fromEnvironment()) {
        self.feed = FeedServerConfiguration()
        self.opsHost = "127.0.0.1"
        self.opsPort = 7401
        self.rulesPath = "Rules"
        self.database = database
        self.batchSize = 4000
        self.linger = .zero
        self.ingestQueueCapacity = 10_000
        self.baseCurrency = "EUR"
        self.shutdownTimeout = .seconds(30)
        self.maxRestarts = 20
        self.restartPeriod = .seconds(60)
        self.detectionWorkers = ProcessInfo.processInfo.activeProcessorCount
        self.alertHook = nil
        self.extraPipelineChildren = []
        self.faults = .none
        self.schemasDirectory = nil
        self.allowedLateness = .seconds(300)
        self.alertStream = AlertBroadcaster.Limits()
        self.allowFailingRuleTests = false
        self.profileCheckpointInterval = .seconds(30)
        self.http = HTTPAccess()
    }

    /// HTTP access settings (see docs/security.md for the roles of each endpoint).
    public struct HTTPAccess: Sendable {
        /// Serve `/metrics` without a token, for a Prometheus scraper (off: viewer needed).
        public var metricsPublic = false
        /// The largest request body accepted, in bytes (64 KiB); larger ones get a 413.
        public var maxBodyBytes = 64 * 1024
        /// PostgreSQL connections the investigator API may use at once (requests beyond
        /// wait their turn, so API traffic cannot crowd out the pipeline).
        public var apiConnections = 4
        /// The defaults.
        public init() {}
    }
}
