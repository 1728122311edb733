import Foundation
import Histogram

/// The figures of one run, printed as text or as one JSON object (`--json`).
struct BenchReport: Codable {
    /// Ack-latency percentiles in microseconds.
    struct Latency: Codable {
        var count: UInt64
        var p50: UInt64
        var p90: UInt64
        var p99: UInt64
        var p99_9: UInt64
        var max: UInt64
        var mean: Double

        enum CodingKeys: String, CodingKey {
            case count, p50, p90, p99
            case p99_9 = "p99.9"
            case max, mean
        }
    }

    var mode: String
    var host: String
    var port: Int
    var connections: Int
    var targetRate: Double?
    var window: Int?
    var warmupSeconds: Double
    var durationSeconds: Double
    var seed: UInt64
    var runID: String
    var accounts: Int
    var sent: Int
    var sentInWindow: Int
    var acked: Int
    var duplicates: Int
    var nacked: Int
    var unparsed: Int
    /// Sent but never answered before the connection ended (drain timeout or a closed connection).
    var unanswered: Int
    /// Open loop: scheduled before the end but never sent (the server pushed back on TCP).
    var unsent: Int
    /// Acks received during the measured interval, per second.
    var throughputPerSecond: Double
    /// Records sent during the measured interval, per second.
    var offeredPerSecond: Double
    var latencyMicroseconds: Latency
    /// Slowest ack per second of the measured interval (by send time), microseconds.
    var latencyMaxPerSecondMicroseconds: [UInt64]
    var nacksByCode: [String: Int]
    var connectionErrors: [String]

    enum CodingKeys: String, CodingKey {
        case mode, host, port, connections
        case targetRate = "target_rate"
        case window
        case warmupSeconds = "warmup_s"
        case
            durationSeconds = "duration_s"
        case seed
        case runID = "run_id"
        case accounts, sent
        case sentInWindow = "sent_in_window"
        case
            acked, duplicates, nacked, unparsed, unanswered, unsent
        case throughputPerSecond = "throughput_per_s"
        case
            offeredPerSecond = "offered_per_s"
        case latencyMicroseconds = "latency_us"
        case
            latencyMaxPerSecondMicroseconds = "latency_max_per_second_us"
        case nacksByCode = "nacks_by_code"
        case
            connectionErrors = "connection_errors"
    }

    init(plan: BenchPlan, result: BenchResult, seed: UInt64, runID: String, generatorAccounts: Int) {
        let stats = result.stats
        let seconds = Double(plan.durationNanos) / 1e9
        mode = plan.rate == nil ? "closed" : "open"
        host = plan.host
        port = plan.port
        connections = plan.connections
        targetRate = plan.rate
        window = plan.rate == nil ? plan.window : nil
        warmupSeconds = Double(plan.warmupNanos) / 1e9
        durationSeconds = seconds
        self.seed = seed
        self.runID = runID
        accounts = generatorAccounts
        sent = stats.sent
        sentInWindow = stats.sentInWindow
        acked = stats.acked
        duplicates = stats.duplicates
        nacked = stats.nacked
        unparsed = stats.unparsed
        unanswered = Swift.max(0, stats.sent - stats.acked - stats.nacked - stats.unparsed)
        unsent = plan.rate == nil ? 0 : Swift.max(0, result.generated - stats.sent)
        throughputPerSecond = Double(stats.ackedInWindow) / seconds
        offeredPerSecond = Double(stats.sentInWindow) / seconds
        let h = stats.latency
        let empty = h.totalCount == 0
        latencyMicroseconds = Latency(
            count: h.totalCount,
            p50: empty ? 0 : h.valueAtPercentile(50), p90: empty ? 0 : h.valueAtPercentile(90),
            p99: empty ? 0 : h.valueAtPercentile(99), p99_9: empty ? 0 : h.valueAtPercentile(99.9),
            max: empty ? 0 : h.max, mean: empty ? 0 : h.mean
        )
        latencyMaxPerSecondMicroseconds = stats.maxPerSecond
        nacksByCode = stats.nacksByCode
        connectionErrors = result.connectionErrors
    }

    var jsonText: String {
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.sortedKeys]
        guard let data = try? encoder.encode(self) else { return "{}" }
        return String(decoding: data, as: UTF8.self)
    }

    var text: String {
        func ms(_ micros: UInt64) -> String { String(format: "%.3f ms", Double(micros) / 1000) }
        let load = targetRate.map { "open loop at \(Int($0)) records/s" } ?? "closed loop (--max, window \(window ?? 0) per connection)"
        var lines = [
            "vigil feed bench: \(load) over \(connections) connection(s) to \(host):\(port), \(formatted(warmupSeconds)) s warmup + \(formatted(durationSeconds)) s measured (run id \(runID), seed \(seed))",
            "sent \(sent) (\(sentInWindow) in the measured interval), acked \(acked) (\(duplicates) duplicates), nacked \(nacked)",
            "throughput \(Int(throughputPerSecond.rounded())) acks/s (offered \(Int(offeredPerSecond.rounded())) records/s)",
            "ack latency over \(latencyMicroseconds.count) records: p50 \(ms(latencyMicroseconds.p50))  p90 \(ms(latencyMicroseconds.p90))  p99 \(ms(latencyMicroseconds.p99))  p99.9 \(ms(latencyMicroseconds.p99_9))  max \(ms(latencyMicroseconds.max))",
        ]
        if latencyMicroseconds.count == 0 {
            lines.append("no latency: no record scheduled in the measured interval was answered (the server is behind its warmup)")
        } else if targetRate != nil {
            lines.append("latency is measured from each record's scheduled send time (no coordinated omission)")
        }
        if latencyMaxPerSecondMicroseconds.count > 1 {
            let perSecond = latencyMaxPerSecondMicroseconds.map { String(format: "%.0f", Double($0) / 1000) }
            lines.append("slowest ack per second sent (ms): " + perSecond.joined(separator: " "))
        }
        for (code, count) in nacksByCode.sorted(by: { $0.key < $1.key }) { lines.append("  nack \(code): \(count)") }
        if unanswered > 0 { lines.append("unanswered: \(unanswered) (no reply before the drain timeout or the connection closed)") }
        if unsent > 0 { lines.append("not sent: \(unsent) scheduled records (the server pushed back and the timetable ran out)") }
        if unparsed > 0 { lines.append("unparsed replies: \(unparsed)") }
        for error in connectionErrors { lines.append("connection failed: \(error)") }
        return lines.joined(separator: "\n")
    }

    private func formatted(_ value: Double) -> String {
        value == value.rounded() ? String(Int(value)) : String(format: "%.1f", value)
    }
}
