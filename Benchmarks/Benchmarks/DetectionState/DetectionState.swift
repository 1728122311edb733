import Benchmark
import Detection
import DetectionFixture
import FeedGenerator
import Foundation
import RuleLanguage
import VigilCore

/// What the account profiles and the card, device and merchant histories cost: resident
/// bytes per account for 1,000,000 accounts, and the detection step's throughput with and
/// without the histories (the ratio is what issue 16 bounds: within 10% of before).
let benchmarks: @Sendable () -> Void = {
    guard let workload = DetectionWorkload.load() else { return }
    let (current, before, transactions, reference) = (workload.current, workload.before, workload.transactions, workload.reference)

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
