import VigilCore

/// A deterministic synthetic transaction stream with labeled fraud, produced lazily.
///
/// `FeedGenerator(configuration:)` builds the world (accounts, merchants, lists) once;
/// iterating yields `configuration.count` records in timestamp order without holding
/// them, so a load generator can stream millions. ``referenceData`` is what
/// `vigil feed seed` loads into PostgreSQL before the feed is sent.
public struct FeedGenerator: Sequence, Sendable {
    /// What is generated.
    public let configuration: GeneratorConfiguration
    let world: World

    /// Builds the world for `configuration` (cost grows with the number of accounts).
    public init(configuration: GeneratorConfiguration) {
        self.configuration = configuration
        world = World(configuration: configuration)
    }

    /// Every regular account with its population (what `FILE.populations.ndjson` lists).
    public var accountPopulations: [(accountID: String, population: Population)] {
        world.accounts.filter { !$0.fraudOnly }.map { ($0.id, $0.population) }
    }

    /// A fresh pass over the stream; every pass yields the same records.
    public func makeIterator() -> Iterator {
        Iterator(world: world, configuration: configuration)
    }

    /// Reference data matching the stream: accounts, merchants, FX rates and lists.
    public var referenceData: ReferenceData { ReferenceData(world: world, configuration: configuration) }

    /// Yields the stream's records one at a time.
    public struct Iterator: IteratorProtocol {
        let world: World
        let configuration: GeneratorConfiguration
        var rng: SeededRandom
        /// Seconds since `configuration.start` of the latest background draw.
        var clock = 0.0
        var emitted = 0
        var pending = PendingQueue()
        var sequence = 0
        var nextBackground: Pending?
        var caseCounter = 0
        var bustOutCursor = 0
        // Per-account state, indexed like `world.accounts`.
        var history: [Int32]
        var lastCardPresent: [Double]
        var tripCity: [City?]
        var tripUntil: [Double]
        let attemptMean: Double
        let fraudCDF: [(FraudType, Double)]
        /// Per account: the UTC day of its last payday spree (payday population).
        var paydaySpree: [Int32]

        /// Relative activity by local hour: quiet nights, lunch and evening peaks.
        static let hourWeights: [Double] = [
            0.04, 0.02, 0.012, 0.01, 0.015, 0.05, 0.15, 0.35, 0.55, 0.65, 0.75, 0.85,
            1.0, 0.95, 0.8, 0.75, 0.8, 0.9, 1.0, 0.95, 0.8, 0.6, 0.35, 0.12,
        ]

        init(world: World, configuration: GeneratorConfiguration) {
            self.world = world
            self.configuration = configuration
            rng = SeededRandom(seed: configuration.seed)
            let n = world.accounts.count
            history = [Int32](repeating: 0, count: n)
            lastCardPresent = [Double](repeating: -1e12, count: n)
            tripCity = [City?](repeating: nil, count: n)
            tripUntil = [Double](repeating: 0, count: n)
            paydaySpree = [Int32](repeating: -1, count: n)
            let meanWeight = Self.hourWeights.reduce(0, +) / 24
            attemptMean = 1 / (world.globalRate / meanWeight)
            fraudCDF = configuration.population.fraudCDF
        }

        /// The next record, or `nil` after `configuration.count`.
        public mutating func next() -> GeneratedRecord? {
            guard emitted < configuration.count else { return nil }
            if nextBackground == nil { nextBackground = drawBackground() }
            var item: Pending
            if let top = pending.first, let bg = nextBackground, top.transaction.timestamp <= bg.transaction.timestamp {
                item = pending.pop() ?? top
            } else if let bg = nextBackground {
                item = bg
                nextBackground = nil
                maybeStartCase()
            } else {
                return nil
            }
            emitted += 1
            item.transaction.id = configuration.idPrefix + String(emitted).leftPadded(to: 9)
            let population = world.accountIndex[item.transaction.accountID].map { world.accounts[$0].population } ?? .everyday
            return GeneratedRecord(transaction: item.transaction, fraud: item.label, population: population)
        }

        /// The timestamp `seconds` after the start, on a millisecond (as real feeds send).
        func time(_ seconds: Double) -> Timestamp {
            configuration.start.adding(microseconds: Int64((seconds * 1000).rounded()) * 1000)
        }

        /// Local hour of `account` at `seconds` after the start.
        func localSecondOfDay(_ account: Account, _ seconds: Double) -> Double {
            let absolute =
                Double(configuration.start.secondsSinceEpoch) + seconds
                + Double(Geography.countries[account.country].utcOffsetMinutes * 60)
            let r = absolute.truncatingRemainder(dividingBy: 86_400)
            return r < 0 ? r + 86_400 : r
        }

        /// Thinning of a Poisson process: each attempt is kept with the account's hourly weight,
        /// so every account follows the daily rhythm of its own zone.
        mutating func drawBackground() -> Pending {
            while true {
                clock += rng.exponential(mean: attemptMean)
                let a = world.sampleAccount(&rng)
                let account = world.accounts[a]
                guard account.openedAt <= time(clock) else { continue }
                let hour = Int(localSecondOfDay(account, clock) / 3600) % 24
                guard rng.chance(Self.hourWeights[hour]) else { continue }
                let tx = legitimate(a)
                if account.population == .payday { maybePaydaySpree(a) }
                return schedule(tx, label: nil)
            }
        }

        mutating func schedule(_ tx: Transaction, label: FraudLabel?) -> Pending {
            sequence += 1
            return Pending(transaction: tx, label: label, sequence: sequence)
        }

        /// Converts EUR to at least one minor unit of `currency`, rounded to `step` major units if given.
        func money(_ eur: Double, _ currency: Currency, step: Double = 0) -> Money {
            var major = eur / Geography.eurRate(currency.code)
            if step > 0 { major = Swift.max(step, (major / step).rounded() * step) }
            let minor = (major * Double(currency.minorUnitsPerMajor)).rounded()
            let clamped = Int64(Swift.max(1, Swift.min(minor, 1e15)))
            return Money(minorUnits: clamped, currency: currency)
        }
    }
}
