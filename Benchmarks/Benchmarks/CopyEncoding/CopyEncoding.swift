import Benchmark
import FeedGenerator
import FeedProtocol
import PostgresStore
import VigilCore

/// Generated transactions with the raw line the writer stores beside them.
struct Rows {
    static let count = 1_024
    static let mask = count - 1
    var transactions: [Transaction] = []
    var raws: [[UInt8]] = []

    init() {
        for record in FeedGenerator(configuration: GeneratorConfiguration(count: Self.count, seed: 11)) {
            var line: [UInt8] = []
            FeedEncoder.append(record.transaction, to: &line, newline: false)
            transactions.append(record.transaction)
            raws.append(line)
        }
    }
}

/// The per-row work of the writer stage: the same encoder call it makes.
@inline(__always)
func encodeRow(_ tx: Transaction, raw: [UInt8], into encoder: inout CopyTextEncoder) {
    encoder.appendTransactionRow(tx, rawLine: raw)
}

/// Throughput and allocations of encoding rows for `COPY ... FROM STDIN` (text format).
let benchmarks: @Sendable () -> Void = {
    Benchmark.defaultConfiguration = .init(
        metrics: [.throughput, .wallClock, .mallocCountTotal, .instructions],
        scalingFactor: .kilo,
        maxDuration: .seconds(3),
        maxIterations: 1_000_000
    )

    Benchmark("COPY text row (writer columns, reused buffer)") { benchmark in
        let rows = Rows()
        var encoder = CopyTextEncoder(capacity: Rows.count * 640)
        benchmark.startMeasurement()
        for i in benchmark.scaledIterations {
            let k = i & Rows.mask
            if k == 0 { encoder.reset() }
            encodeRow(rows.transactions[k], raw: rows.raws[k], into: &encoder)
        }
        benchmark.stopMeasurement()
        blackHole(encoder.bytes.count)
    }

    // One iteration = one batch as the writer builds it: a fresh encoder sized
    // records.count * 512, then 1,000 rows (throughput here is batches per second).
    Benchmark(
        "COPY text batch of 1000 rows (fresh buffer, as the writer does)",
        configuration: .init(scalingFactor: .one, maxIterations: 100_000)
    ) { benchmark in
        let rows = Rows()
        var bytes = 0
        benchmark.startMeasurement()
        for _ in benchmark.scaledIterations {
            var encoder = CopyTextEncoder(capacity: 1_000 * 512)
            for k in 0..<1_000 { encodeRow(rows.transactions[k], raw: rows.raws[k], into: &encoder) }
            bytes &+= encoder.bytes.count
        }
        benchmark.stopMeasurement()
        blackHole(bytes)
    }

    // The content digest alone (canonical encoding + SHA-256), which the row above now
    // includes: what telling a replay from an id conflict costs per record.
    Benchmark("content digest (canonical encoding + SHA-256)") { benchmark in
        let rows = Rows()
        var combined: UInt64 = 0
        benchmark.startMeasurement()
        for i in benchmark.scaledIterations {
            combined &+= UInt64(ContentDigest(of: rows.transactions[i & Rows.mask]).hashValue & 1)
        }
        benchmark.stopMeasurement()
        blackHole(combined)
    }

    Benchmark("COPY text timestamp field") { benchmark in
        let rows = Rows()
        var encoder = CopyTextEncoder(capacity: Rows.count * 40)
        benchmark.startMeasurement()
        for i in benchmark.scaledIterations {
            let k = i & Rows.mask
            if k == 0 { encoder.reset() }
            encoder.append(encodable: rows.transactions[k].timestamp)
            encoder.endRow()
        }
        benchmark.stopMeasurement()
        blackHole(encoder.bytes.count)
    }
}
