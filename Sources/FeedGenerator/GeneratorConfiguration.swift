import VigilCore

/// What to generate. Everything is derived from these values and the seed, so equal
/// configurations produce byte-identical feeds.
public struct GeneratorConfiguration: Sendable, Hashable {
    /// Number of transactions in the stream (legitimate and fraudulent together).
    public var count: Int
    /// Seed of the PRNG.
    public var seed: UInt64
    /// Time of the first transaction (roughly).
    public var start: Timestamp
    /// Number of customer accounts; by default one per 20 transactions (100 to 200,000).
    public var accountCount: Int
    /// Number of merchants; by default one per 10 accounts (at least 150).
    public var merchantCount: Int
    /// Mean legitimate transactions per account per day (sets how much time the feed spans).
    public var transactionsPerAccountPerDay: Double
    /// Fraud cases started per 1,000 legitimate transactions.
    public var fraudCasesPerThousand: Double
    /// Prefix of transaction ids (vary it to send the same feed twice as new records).
    public var idPrefix: String
    /// Which populations the accounts belong to and which fraud patterns are injected.
    public var population: PopulationMix

    /// Creates a configuration; unspecified sizes scale with `count`.
    public init(
        count: Int, seed: UInt64 = 1,
        start: Timestamp = Timestamp(secondsSinceEpoch: RFC3339.daysFromCivil(year: 2026, month: 11, day: 1) * 86_400),
        accountCount: Int? = nil, merchantCount: Int? = nil,
        transactionsPerAccountPerDay: Double = 3, fraudCasesPerThousand: Double = 2,
        idPrefix: String = "tx-", population: PopulationMix = .default
    ) {
        self.count = max(0, count)
        self.seed = seed
        self.start = start
        let accounts = accountCount ?? min(200_000, max(100, count / 20))
        self.accountCount = max(10, accounts)
        self.merchantCount = max(150, merchantCount ?? self.accountCount / 10)
        self.transactionsPerAccountPerDay = max(0.1, transactionsPerAccountPerDay)
        self.fraudCasesPerThousand = max(0, population.fraudCasesPerThousand ?? fraudCasesPerThousand)
        self.idPrefix = idPrefix
        self.population = population
    }

    /// Legitimate transactions per second across all accounts.
    var globalRate: Double { Double(accountCount) * transactionsPerAccountPerDay / 86_400 }

    /// Roughly how long the stream spans, in seconds.
    var expectedSpanSeconds: Double { Double(count) / globalRate }
}
