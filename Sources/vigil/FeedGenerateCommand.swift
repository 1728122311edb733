import ArgumentParser
import FeedGenerator
import VigilCore

/// `vigil feed generate`: writes a deterministic synthetic feed with labeled fraud and
/// the reference data it assumes.
struct FeedGenerateCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "generate",
        abstract: "Write a synthetic NDJSON transaction feed with labeled fraud cases.",
        discussion: """
            Writes FILE (one protocol v1 line per transaction, in time order), \
            FILE.labels.ndjson (one line per injected fraud case: case_id, type, \
            transaction_ids, account_ids) and FILE.reference.json (accounts, merchants, \
            FX rates and lists for `vigil feed seed`) and FILE.populations.ndjson (per \
            legitimate population, its accounts and transaction count). The same seed and \
            population mix give the same files. --population names a preset (default, \
            bank, stress) or a JSON population file (see docs/detection.md).
            """
    )

    @Option(help: "Number of transactions to write.")
    var count: Int

    @Option(help: "Seed of the generator; equal seeds give identical feeds.")
    var seed: UInt64 = 1

    @Option(name: .customLong("out"), help: "Path of the NDJSON feed; side files are written beside it.")
    var out: String = "feed.ndjson"

    @Option(help: "RFC 3339 time of the first transaction (default 2026-11-01T00:00:00Z).")
    var start: String?

    @Option(help: "Number of accounts (default: one per 20 transactions).")
    var accounts: Int?

    @Option(name: .customLong("fraud-rate"), help: "Fraud cases started per 1,000 transactions.")
    var fraudRate: Double = 2

    @Option(name: .customLong("id-prefix"), help: "Prefix of transaction ids.")
    var idPrefix: String = "tx-"

    @Option(help: "Population mix: a preset (default, bank, stress) or a JSON population file.")
    var population: String = "default"

    func validate() throws {
        guard count > 0 else { throw ValidationError("--count must be positive") }
        if let start, RFC3339.parse(start) == nil {
            throw ValidationError("--start must be an RFC 3339 time such as 2026-11-01T00:00:00Z")
        }
    }

    func run() async throws {
        let mix: PopulationMix
        do { mix = try PopulationMix.load(population) } catch { throw CleanExit.failure("vigil feed generate: \(error)") }
        var configuration = GeneratorConfiguration(
            count: count, seed: seed, accountCount: accounts, fraudCasesPerThousand: fraudRate, idPrefix: idPrefix,
            population: mix
        )
        if let start, let t = RFC3339.parse(start) { configuration.start = t }
        let clock = ContinuousClock()
        var summary: FeedFileWriter.Summary?
        let elapsed = try clock.measure { summary = try FeedFileWriter.write(configuration, to: out) }
        guard let summary else { return }
        let cases = summary.casesByType.sorted { $0.key.rawValue < $1.key.rawValue }
            .map { "  \($0.key.rawValue): \($0.value)" }.joined(separator: "\n")
        print(
            """
            wrote \(summary.transactions) transactions to \(summary.feedPath) in \(elapsed)
            \(summary.fraudTransactions) in \(summary.casesByType.values.reduce(0, +)) fraud cases (\(summary.labelsPath)):
            \(cases)
            reference data: \(summary.referencePath) (\(configuration.accountCount) accounts)
            population mix \(mix.name): \(summary.legitimateByPopulation.sorted { $0.key.rawValue < $1.key.rawValue }.map { "\($0.key.rawValue) \($0.value)" }.joined(separator: ", ")) legitimate transactions
            """)
    }
}
