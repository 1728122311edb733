import Benchmark
import FeedGenerator
import FeedProtocol
import VigilCore

/// Feed lines from the generator (realistic mix of channels, optional fields and fraud),
/// held in one buffer so the loop measures decoding, not fetching.
struct GeneratedLines {
    static let count = 4_096
    static let mask = count - 1
    var bytes: [UInt8] = []
    var ends: [Int] = []
    var transactions: [Transaction] = []

    init() {
        for record in FeedGenerator(configuration: GeneratorConfiguration(count: Self.count, seed: 7)) {
            FeedEncoder.append(record.transaction, to: &bytes, newline: false)
            ends.append(bytes.count)
            transactions.append(record.transaction)
        }
    }

    func start(of index: Int) -> Int { index == 0 ? 0 : ends[index - 1] }
}

/// Throughput and allocations of the ingest hot path's first step: one feed line to a
/// validated `Transaction` (`FeedDecoder`), and of its inverse (`FeedEncoder`, what the
/// generator and `vigil feed bench` pay per record).
let benchmarks: @Sendable () -> Void = {
    Benchmark.defaultConfiguration = .init(
        metrics: [.throughput, .wallClock, .mallocCountTotal, .instructions],
        scalingFactor: .kilo,
        maxDuration: .seconds(3),
        maxIterations: 1_000_000
    )

    Benchmark("decode generated feed line") { benchmark in
        let lines = GeneratedLines()
        let decoder = FeedDecoder()
        let now = Timestamp.now()
        var decoded = 0
        lines.bytes.withUnsafeBufferPointer { all in
            benchmark.startMeasurement()
            for i in benchmark.scaledIterations {
                let k = i & GeneratedLines.mask
                let line = UnsafeBufferPointer(rebasing: all[lines.start(of: k)..<lines.ends[k]])
                if let tx = try? decoder.decode(line, now: now) { decoded &+= tx.amount.minorUnits > 0 ? 1 : 0 }
            }
            benchmark.stopMeasurement()
        }
        blackHole(decoded)
    }

    Benchmark("decode rejected line (bad currency)") { benchmark in
        let line = Array(
            #"{"id":"tx-1","timestamp":"2026-11-01T10:00:00.000Z","account_id":"acc-1","amount":"12.50","currency":"XXQ","channel":"atm"}"#.utf8)
        let decoder = FeedDecoder()
        let now = Timestamp.now()
        var rejected = 0
        line.withUnsafeBufferPointer { buffer in
            benchmark.startMeasurement()
            for _ in benchmark.scaledIterations {
                do { _ = try decoder.decode(buffer, now: now) } catch { rejected &+= 1 }
            }
            benchmark.stopMeasurement()
        }
        blackHole(rejected)
    }

    Benchmark("encode feed line") { benchmark in
        let lines = GeneratedLines()
        var out: [UInt8] = []
        out.reserveCapacity(1 << 16)
        benchmark.startMeasurement()
        for i in benchmark.scaledIterations {
            if out.count > (1 << 16) - 1_024 { out.removeAll(keepingCapacity: true) }
            FeedEncoder.append(lines.transactions[i & GeneratedLines.mask], to: &out)
        }
        benchmark.stopMeasurement()
        blackHole(out)
    }
}
