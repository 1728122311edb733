import Logging
import PostgresStore
import Secrets

/// How the dispatcher connects, delivers, retries and gives up.
public struct WebhookDispatcherConfiguration: Sendable {
    /// Where the outbox lives.
    public var database: PostgresConfiguration
    /// One attempt's limit, connect to last byte read (15 s by default).
    public var requestTimeout: Duration
    /// Retry schedule, dead-lettering and auto-disable.
    public var policy: DeliveryPolicy
    /// Requests in flight per endpoint at most.
    public var concurrencyPerEndpoint: Int
    /// Which destination addresses are allowed (SSRF rules).
    public var destinations: DestinationRules
    /// How often the outbox is checked when no notification arrives.
    public var pollInterval: Duration
    /// How long a claimed message stays leased beyond the request timeout; a message
    /// whose dispatcher died becomes due again when the lease ends.
    public var leaseMargin: Duration
    /// How often an endpoint's host is resolved and checked again.
    public var resolveInterval: Duration
    /// How much of a response body is read at most.
    public var responseBodyCap: Int
    /// The first pause after a 429/502/504 without `Retry-After` (doubles up to 5 min).
    public var slowDownPause: Duration
    /// A number in [0, 1) per decision, spreading retry delays (fixed in tests).
    public var jitterSource: @Sendable () -> Double
    /// The logger; secrets never reach it.
    public var logger: Logger
    /// Opens the endpoints' sealed signing secrets; nil refuses every delivery (with the
    /// reason recorded) until a key is configured.
    public var keyring: SecretKeyring?

    /// Creates a configuration with production defaults.
    public init(
        database: PostgresConfiguration = .fromEnvironment(applicationName: "vigil-webhooks"),
        requestTimeout: Duration = .seconds(15),
        schedule: RetrySchedule = .standard,
        disableAfter: Duration? = .seconds(5 * 24 * 3600),
        concurrencyPerEndpoint: Int = 4,
        destinations: DestinationRules = .publicOnly,
        pollInterval: Duration = .seconds(5),
        leaseMargin: Duration = .seconds(30),
        resolveInterval: Duration = .seconds(300),
        responseBodyCap: Int = 4096,
        slowDownPause: Duration = .seconds(1),
        jitterSource: @escaping @Sendable () -> Double = { Double.random(in: 0..<1) },
        logger: Logger = Logger(label: "vigil.webhooks"),
        keyring: SecretKeyring? = nil
    ) {
        self.keyring = keyring
        self.database = database
        self.requestTimeout = requestTimeout
        self.policy = DeliveryPolicy(schedule: schedule, disableAfter: disableAfter)
        self.concurrencyPerEndpoint = max(1, concurrencyPerEndpoint)
        self.destinations = destinations
        self.pollInterval = pollInterval
        self.leaseMargin = leaseMargin
        self.resolveInterval = resolveInterval
        self.responseBodyCap = max(1, responseBodyCap)
        self.slowDownPause = slowDownPause
        self.jitterSource = jitterSource
        self.logger = logger
    }
}
