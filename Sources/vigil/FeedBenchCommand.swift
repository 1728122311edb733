import ArgumentParser
import Dispatch
import FeedGenerator
import FeedServer
import Foundation
import ISO8583
import VigilCore

/// `vigil feed bench`: a load generator for the feed protocol that measures throughput and
/// ack latency (HDR histogram), open-loop at a fixed rate or closed-loop at full speed.
struct FeedBenchCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "bench",
        abstract: "Stream generated transactions to a Vigil server and measure throughput and ack latency.",
        discussion: """
            Open loop (--rate R): records are scheduled on a fixed timetable of R per second \
            across all connections, and each record's latency is measured from its scheduled \
            send time, so a server that stalls cannot hide its queueing delay (no coordinated \
            omission). Closed loop (--max): each connection keeps up to --window records \
            unanswered and sends more as acks return; latency is measured from the actual send. \
            Records are generated on the fly (skewed account activity, mixed channels, labeled \
            fraud); all records of one account travel on one connection; ids carry a run id, \
            so reruns against the same database are new records. The run stops by itself \
            after --warmup + --duration seconds plus at most --drain seconds for late replies.

            Helpers for `make bench`: --write-reference writes the reference data of exactly \
            this generator configuration (for `vigil feed seed`); --copy-file writes the same \
            rows in PostgreSQL COPY text format (the `\\copy` baseline); --idle N opens N \
            connections that send nothing and holds them for --duration seconds.
            """
    )

    @Option(
        help:
            "Server address (only this host is ever contacted), or the nodes of a --ha pair (host or host:port, comma-separated): the run goes to the one that leads at its start."
    )
    var host: String = "127.0.0.1"
    @Option(help: "Server feed port (for addresses without one).")
    var port: Int = 7400
    @Option(help: "Parallel connections.")
    var connections: Int = 10
    @Option(help: "Open loop: records per second offered, across all connections.")
    var rate: Double?
    @Flag(help: "Closed loop: send as fast as acks allow (bounded by --window per connection).")
    var max = false
    @Option(
        name: .customLong("send-tick-us"),
        help: """
            Open loop: the sender wakes at most once in this many microseconds and sends every record due by then; each \
            is still timed from its own scheduled send, so the tick can only add to the latency measured (at most this \
            much). 0 wakes for every record (costs the client a wake-up each, on the server's cores).
            """)
    var sendTickMicros: Int = 1000
    @Option(help: "Closed loop: unanswered records per connection at most.")
    var window: Int = 1024
    @Option(help: "Seconds measured (after the warmup).")
    var duration: Double = 10
    @Option(help: "Seconds sent before measuring starts (not counted in the figures).")
    var warmup: Double = 2
    @Option(help: "Seconds to wait for replies after sending stops before giving up on them.")
    var drain: Double = 10
    @Option(help: "Seed of the generator.")
    var seed: UInt64 = 1
    @Option(help: "Accounts in the generated world (must match the seeded reference data).")
    var accounts: Int = 200_000
    @Option(help: "RFC 3339 event time of the first record (default: 30 days ago, at midnight UTC).")
    var start: String?
    @Option(
        name: .customLong("time-offset-hours"),
        help: """
            Shift every record's event time this many hours later, keeping the same world. Successive runs \
            against one server need distinct offsets: the same times again would look like a replay burst \
            to the velocity windows (and raise alerts a real feed would not).
            """)
    var timeOffsetHours: Int = 0
    @Option(name: .customLong("run-id"), help: "Prefix tag of this run's ids (default: random).")
    var runID: String?
    @Flag(help: "Print the result as one JSON object.")
    var json = false

    @Option(name: .customLong("write-reference"), help: "Write the reference data of this configuration to FILE and exit.")
    var writeReference: String?
    @Option(name: .customLong("copy-file"), help: "Write --copy-rows records as COPY text rows of `transactions` to FILE and exit.")
    var copyFile: String?
    @Option(name: .customLong("copy-rows"), help: "Rows written by --copy-file.")
    var copyRows: Int = 1_000_000
    @OptionGroup var tls: FeedTLSOptions
    @OptionGroup var format: FeedFormatOptions
    @Option(help: "Open N idle connections, hold them for --duration seconds, then close (memory test).")
    var idle: Int?

    /// Records the generator may produce: far more than any run sends, and small enough that
    /// event times (about 600,000 records a day of event time at 200,000 accounts) stay in
    /// the past, where the decoder accepts them.
    static let generatorCapacity = 15_000_000

    func validate() throws {
        guard connections > 0, connections <= 10_000 else { throw ValidationError("--connections must be 1 to 10000") }
        guard window > 0 else { throw ValidationError("--window must be positive") }
        guard (0...1_000_000).contains(sendTickMicros) else { throw ValidationError("--send-tick-us must be 0 to 1000000 microseconds") }
        guard duration > 0, duration <= 3600, warmup >= 0, warmup <= 600, drain >= 0, drain <= 600 else {
            throw ValidationError("--duration must be in (0, 3600], --warmup and --drain in [0, 600] seconds")
        }
        guard accounts >= 10 else { throw ValidationError("--accounts must be at least 10") }
        if let start, RFC3339.parse(start) == nil {
            throw ValidationError("--start must be an RFC 3339 time such as 2026-11-01T00:00:00Z")
        }
        if let runID,
            runID.isEmpty || runID.utf8.count > 32
                || !runID.utf8.allSatisfy({ $0 > 0x20 && $0 < 0x7F && $0 != UInt8(ascii: "\"") && $0 != UInt8(ascii: "\\") })
        {
            throw ValidationError("--run-id must be 1 to 32 printable ASCII characters without quotes or backslashes")
        }
        if let idle, idle <= 0 || idle > 100_000 { throw ValidationError("--idle must be 1 to 100000") }
        let helper = writeReference != nil || copyFile != nil || idle != nil
        if !helper {
            guard (rate != nil) != max else { throw ValidationError("give exactly one of --rate R or --max") }
            if let rate { guard rate > 0, rate <= 10_000_000 else { throw ValidationError("--rate must be in (0, 10000000]") } }
        }
        guard copyRows > 0, copyRows <= Self.generatorCapacity else {
            throw ValidationError("--copy-rows must be 1 to \(Self.generatorCapacity)")
        }
    }

    /// The generator configuration every mode of this command uses.
    func generatorConfiguration(idPrefix: String) -> GeneratorConfiguration {
        var configuration = GeneratorConfiguration(count: Self.generatorCapacity, seed: seed, accountCount: accounts, idPrefix: idPrefix)
        if let start, let parsed = RFC3339.parse(start) {
            configuration.start = parsed
        } else {
            let day: Int64 = 86_400
            let today = Timestamp.now().secondsSinceEpoch / day * day
            configuration.start = Timestamp(secondsSinceEpoch: today - 30 * day)
        }
        return configuration
    }

    func run() async throws {
        let runTag = runID ?? Self.randomRunID()
        let configuration = generatorConfiguration(idPrefix: "b\(runTag)-")
        if let writeReference {
            try Self.writeReference(configuration, to: writeReference)
            return
        }
        if let copyFile {
            try Self.writeCopyFile(configuration, rows: copyRows, to: copyFile)
            return
        }
        if let idle {
            try await holdIdleConnections(idle)
            return
        }
        let addresses = try FeedAddress.parse(host, defaultPort: port, command: "feed bench")
        let clientTLS = try tls.make(command: "feed bench")
        let packager = try format.packager(command: "feed bench")
        let target =
            addresses.count == 1
            ? addresses[0]
            : try await LeaderProbe.leader(
                among: addresses, tls: clientTLS, iso8583: packager, deadline: .now + .seconds(30), command: "feed bench")
        let plan = BenchPlan(
            host: target.host, port: target.port, connections: connections, rate: max ? nil : rate, window: window,
            warmupNanos: UInt64(warmup * 1e9), durationNanos: UInt64(duration * 1e9), drainNanos: UInt64(drain * 1e9),
            timeOffsetMicros: Int64(timeOffsetHours) * 3_600_000_000, tls: clientTLS, iso8583: packager,
            sendTickNanos: UInt64(sendTickMicros) * 1_000
        )
        let generator = FeedGenerator(configuration: configuration)
        let result = await BenchRun(plan: plan).run(generator: generator)
        let report = BenchReport(plan: plan, result: result, seed: seed, runID: runTag, generatorAccounts: accounts)
        if json {
            print(report.jsonText)
        } else {
            print(report.text)
        }
        if result.connectionErrors.count == connections { throw ExitCode(2) }
    }

    static func randomRunID() -> String {
        var rng = SystemRandomNumberGenerator()
        let value = rng.next() & 0xFF_FFFF_FFFF
        return String(value, radix: 36)
    }
}

/// What one benchmark run does, resolved from the options.
struct BenchPlan: Sendable {
    var host: String
    var port: Int
    var connections: Int
    /// Records per second across all connections (open loop), or `nil` for closed loop.
    var rate: Double?
    var window: Int
    var warmupNanos: UInt64
    var durationNanos: UInt64
    var drainNanos: UInt64
    /// Added to every generated record's event time.
    var timeOffsetMicros: Int64 = 0
    /// TLS for each connection (`--tls`), nil for plain TCP.
    var tls: FeedClientTLS?
    /// The dialect when the run speaks ISO 8583 (`--format iso8583`); nil for NDJSON.
    var iso8583: ISO8583Packager?
    /// Open loop: the shortest time between two wake-ups of the sender (0: one per record).
    var sendTickNanos: UInt64 = 0

    /// Offset from the run's start (ns) after which latencies and acks count.
    var measureFrom: UInt64 { warmupNanos }
    /// Offset at which sending stops.
    var sendUntil: UInt64 { warmupNanos + durationNanos }
    /// Offset at which every connection is closed, answered or not.
    var hardStop: UInt64 { sendUntil + drainNanos }
}

/// Monotonic nanoseconds (`CLOCK_MONOTONIC` through Dispatch): cheap enough per record.
@inline(__always)
func benchNow() -> UInt64 { DispatchTime.now().uptimeNanoseconds }
