import Benchmark
import Detection
import FeedGenerator
import Foundation
import RuleLanguage
import VigilCore

/// What the account profiles and the card, device and merchant histories cost: resident
/// bytes per account for 1,000,000 accounts, and the detection step's throughput with and
/// without the histories (the ratio is what issue 16 bounds: within 10% of before).
let benchmarks: @Sendable () -> Void = {
    let rulesDirectory = URL(fileURLWithPath: #filePath)
        .deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent()
        .deletingLastPathComponent().appendingPathComponent("Rules").path
    guard let current = RulesetLoader.load(paths: [rulesDirectory]).ruleset else {
        print("Rules/ does not compile; run `vigil rules check Rules`")
        return
    }
    // The rules to run the "before" variant with: another checkout's Rules/ (e.g. main's),
    // so both variants are measured in the same run on the same machine.
    let before = ProcessInfo.processInfo.environment["VIGIL_BEFORE_RULES"].flatMap { RulesetLoader.load(paths: [$0]).ruleset } ?? current
    let generator = FeedGenerator(configuration: GeneratorConfiguration(count: 20_000, seed: 7, population: .bank))
    let transactions = generator.map(\.transaction)
    let reference = DetectionPass.snapshot(generator.referenceData)

    Benchmark(
        "detection pass, 20,000 bank transactions, profiles only (before)",
        configuration: .init(metrics: [.throughput, .wallClock], scalingFactor: .one, maxDuration: .seconds(10), maxIterations: 50)
    ) { benchmark in
        for _ in benchmark.scaledIterations {
            blackHole(DetectionPass.run(transactions, ruleset: before, reference: reference, history: nil))
        }
    }

    Benchmark(
        "detection pass, 20,000 bank transactions, profiles + card/device/merchant histories",
        configuration: .init(metrics: [.throughput, .wallClock], scalingFactor: .one, maxDuration: .seconds(10), maxIterations: 50)
    ) { benchmark in
        for _ in benchmark.scaledIterations {
            blackHole(DetectionPass.run(transactions, ruleset: current, reference: reference, history: SharedHistory()))
        }
    }

    // One iteration: 1,000,000 accounts, each with two cards and a device of its own and
    // twelve transactions across channels, hours and 20,000 merchants. Reports the resident
    // bytes added per account (profiles and histories; this benchmark runs in its own process).
    Benchmark(
        "profiles + histories memory, 1,000,000 accounts",
        configuration: .init(
            metrics: [.wallClock, .custom("RSS bytes per account", useScalingFactor: false)],
            warmupIterations: 0, scalingFactor: .one, maxDuration: .seconds(300), maxIterations: 1)
    ) { benchmark in
        let accounts = 1_000_000
        let rssBefore = MemoryProbe.residentBytes()
        var profiles: [String: AccountProfile] = [:]
        let history = SharedHistory()
        var record = EvaluationRecord(windowCount: 0)
        let empty = ReferenceSnapshot(baseCurrency: "EUR")
        guard let eur = Currency(code: "EUR") else { return }
        for i in 0..<accounts {
            let account = "acc-\(String(i).leftPadded(7))"
            var profile = AccountProfile()
            for k in 0..<12 {
                let tx = Transaction(
                    id: "tx-\(i)-\(k)", timestamp: Timestamp(secondsSinceEpoch: 1_795_000_000 + Int64(k) * 7_200 + Int64(i % 3_600)),
                    accountID: account, cardID: "card-\(String(i).leftPadded(7))-\(k % 2 + 1)",
                    amount: Money(minorUnits: Int64(500 + (i &* 31 + k * 977) % 90_000), currency: eur),
                    merchantID: "m-\((i &* 7 + k * 13) % 20_000)", country: "DE", channel: Channel.allCases[k % 4],
                    deviceID: "dev-\(String(i).leftPadded(7))-1")
                let derived = Enricher.fill(&record, transaction: tx, reference: empty, profile: profile)
                Enricher.fillHistory(&record, transaction: tx, amountBase: derived.amountBase, history: history, update: true)
                Enricher.update(&profile, with: tx, derived: derived)
            }
            profiles[account] = profile
        }
        let rssAfter = MemoryProbe.residentBytes()
        benchmark.measurement(.custom("RSS bytes per account", useScalingFactor: false), (rssAfter - rssBefore) / accounts)
        blackHole(profiles)
        blackHole(history)
    }
}

/// The detection step without I/O: enrichment, windows, rules and profile updates, with
/// or without the shared histories (what `Detector.detect` does per transaction).
enum DetectionPass {
    static func run(_ transactions: [Transaction], ruleset: CompiledRuleset, reference: ReferenceSnapshot, history: SharedHistory?) -> Int {
        let lists = reference.listSnapshot(for: ruleset)
        var windows = WindowState(ruleset: ruleset)
        var profiles: [String: AccountProfile] = [:]
        var record = EvaluationRecord(for: ruleset)
        var outcomes = RuleOutcomes()
        var hits = 0
        for tx in transactions {
            var profile = profiles.removeValue(forKey: tx.accountID) ?? AccountProfile()
            let derived = Enricher.fill(&record, transaction: tx, reference: reference, profile: profile)
            record[.isLate] = .bool(false)
            if let history {
                Enricher.fillHistory(&record, transaction: tx, amountBase: derived.amountBase, history: history, update: true)
            }
            windows.observe(&record, lists: lists)
            ruleset.evaluate(record, lists: lists, into: &outcomes)
            for rule in ruleset.rules where outcomes.values[rule.index].isHit { hits += 1 }
            Enricher.update(&profile, with: tx, derived: derived)
            profiles[tx.accountID] = profile
        }
        return hits
    }

    /// What `vigil feed seed` would load.
    static func snapshot(_ data: ReferenceData) -> ReferenceSnapshot {
        var snapshot = ReferenceSnapshot(baseCurrency: data.baseCurrency)
        for a in data.accounts {
            snapshot.accounts[a.id] = AccountInfo(
                openedAt: RFC3339.parse(a.openedAt), homeCountry: a.homeCountry, riskTier: a.riskTier,
                timeZone: TimeZone(identifier: a.timezone))
        }
        for m in data.merchants { snapshot.merchants[m.id] = MerchantInfo(riskLevel: m.riskLevel, country: m.country) }
        for r in data.fxRates { snapshot.fxRates[r.currency] = DecimalValue(parsing: r.rateToBase) }
        for l in data.lists { snapshot.lists[l.name] = Set(l.values) }
        return snapshot
    }
}

/// Process memory as the kernel sees it.
enum MemoryProbe {
    /// Resident set size from `/proc/self/statm` (0 where there is no procfs).
    static func residentBytes() -> Int {
        guard let text = try? String(contentsOfFile: "/proc/self/statm", encoding: .utf8) else { return 0 }
        let fields = text.split(separator: " ")
        guard fields.count > 1, let pages = Int(fields[1]) else { return 0 }
        return pages * Int(sysconf(Int32(_SC_PAGESIZE)))
    }
}

extension String {
    func leftPadded(_ width: Int) -> String {
        count >= width ? self : String(repeating: "0", count: width - count) + self
    }
}
