import Benchmark
import Foundation
import RuleLanguage
import VigilCore

/// `WindowState.observe` with many distinct keys (the starter set's windows), and the
/// memory each tracked card costs. The RuleEvaluation target's "starter windows observe"
/// cycles through 80 hot cards; here keys are mostly cold, as in a real card base.
let benchmarks: @Sendable () -> Void = {
    Benchmark.defaultConfiguration = .init(
        metrics: [.throughput, .wallClock, .mallocCountTotal, .instructions],
        scalingFactor: .kilo,
        maxDuration: .seconds(3),
        maxIterations: 1_000_000
    )

    let rulesDirectory = URL(fileURLWithPath: #filePath)
        .deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent()
        .deletingLastPathComponent().appendingPathComponent("Rules").path
    guard let starter = RulesetLoader.load(paths: [rulesDirectory]).ruleset else {
        print("Rules/ does not compile; run `vigil rules check Rules`")
        return
    }

    Benchmark("starter windows observe, 65,536 cards / 32,768 accounts cycling") { benchmark in
        let records = WindowRecords.make(ruleset: starter, count: 65_536)
        var state = WindowState(ruleset: starter)
        var record = records[0]
        benchmark.startMeasurement()
        for i in benchmark.scaledIterations {
            record = records[i & 65_535]
            // 2 ms of event time per record: windows fill and expire as they would live.
            record[.timestamp] = .timestamp(1_795_000_000_000_000 + Int64(i) &* 2_000)
            state.observe(&record)
        }
        benchmark.stopMeasurement()
        blackHole(record)
    }

    // One iteration: 1,000,000 distinct cards (two per account and per device), each with
    // one card-not-present transaction, so every starter window tracks its keys. Reports
    // the resident bytes added per tracked card (this benchmark runs in its own process).
    Benchmark(
        "window state memory, 1,000,000 cards (starter windows)",
        configuration: .init(
            metrics: [.wallClock, .custom("RSS bytes per card", useScalingFactor: false)],
            warmupIterations: 0, scalingFactor: .one, maxDuration: .seconds(120), maxIterations: 1)
    ) { benchmark in
        let cards = 1_000_000
        let rssBefore = MemoryProbe.residentBytes()
        var state = WindowState(ruleset: starter)
        var record = EvaluationRecord(for: starter)
        for i in 0..<cards {
            WindowRecords.fill(&record, index: i, channel: .cardNotPresent, time: 1_795_000_000_000_000 + Int64(i) * 100)
            state.observe(&record)
        }
        let rssAfter = MemoryProbe.residentBytes()
        benchmark.measurement(.custom("RSS bytes per card", useScalingFactor: false), (rssAfter - rssBefore) / cards)
        blackHole(state)
    }
}

/// Records with realistic id shapes (the generator's `card-0000123-1` style, stored inline).
enum WindowRecords {
    static func make(ruleset: CompiledRuleset, count: Int) -> [EvaluationRecord] {
        let channels = Channel.allCases
        return (0..<count).map { i in
            var record = EvaluationRecord(for: ruleset)
            fill(&record, index: i, channel: channels[i % channels.count], time: 1_795_000_000_000_000)
            return record
        }
    }

    static func fill(_ record: inout EvaluationRecord, index i: Int, channel: Channel, time: Int64) {
        let account = String(i / 2 + 1).leftPadded(7)
        guard let eur = Currency(code: "EUR") else { return }
        let tx = Transaction(
            id: "tx-\(i)", timestamp: Timestamp(microsecondsSinceEpoch: time),
            accountID: "acc-\(account)", cardID: "card-\(account)-\(i % 2 + 1)",
            amount: Money(minorUnits: Int64(500 + i % 90_000), currency: eur), merchantID: "m-\(i % 5_000)",
            mcc: "5411", country: "DE", channel: channel, deviceID: "dev-\(account)-1", ip: "198.51.100.\(i % 250)")
        record.setTransaction(tx)
        record[.amountBase] = record[.amount]
        record[.baseCurrency] = .string("EUR")
    }
}

/// Process memory as the kernel and the allocator see it.
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
