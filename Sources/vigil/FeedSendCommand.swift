import ArgumentParser
import FeedProtocol
import FeedServer
import Foundation
import ISO8583
import VigilCore

/// `vigil feed send`: streams an NDJSON file to a feed server and reports the replies.
struct FeedSendCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "send",
        abstract: "Stream an NDJSON feed file to a Vigil server and count acks, duplicates and nacks.",
        discussion: "Records of one account always travel on the same connection, so each account's order is kept."
    )

    @Argument(help: "The NDJSON file to send (one transaction per line).")
    var file: String
    @Option(
        help:
            "Server address, or several (host or host:port, comma-separated: the nodes of a --ha pair); records go to the leader, and those not acked are re-sent when it changes."
    )
    var host: String = "127.0.0.1"
    @Option(help: "Server feed port (for addresses without one).")
    var port: Int = 7400
    @Option(help: "Seconds to keep moving between several --host addresses looking for the leader, after the last answer, before giving up.")
    var failoverTimeout: Double = 30
    @Option(help: "Parallel connections.")
    var connections: Int = 4
    @Option(
        help:
            "Records per second in all (shared by the connections) on a steady timetable: records held up by a takeover go out at once when it ends, then the rest on time. 0: as fast as the acks allow."
    )
    var rate: Double = 0
    @Flag(help: "Print the summary as one JSON object.")
    var json = false
    @OptionGroup var tls: FeedTLSOptions
    @OptionGroup var format: FeedFormatOptions

    func run() async throws {
        guard connections > 0 else { throw CleanExit.failure("vigil feed send: --connections must be at least 1") }
        guard rate >= 0, rate.isFinite else { throw CleanExit.failure("vigil feed send: --rate must be 0 (unpaced) or more records a second") }
        let clientTLS = try tls.make(command: "feed send")
        let iso8583 = try format.packager(command: "feed send")
        var unconvertible = 0
        guard let data = FileManager.default.contents(atPath: file) else {
            throw CleanExit.failure("vigil feed send: cannot read \(file)")
        }
        let addresses = try FeedAddress.parse(host, defaultPort: port, command: "feed send")
        var partitions = [[UInt8]](repeating: [], count: connections)
        var ends = [[Int]](repeating: [], count: connections)
        var counts = [Int](repeating: 0, count: connections)
        let decoder = FeedDecoder()
        let now = Timestamp.now()
        data.withUnsafeBytes { (raw: UnsafeRawBufferPointer) in
            let bytes = raw.bindMemory(to: UInt8.self)
            var start = 0
            for i in 0...bytes.count {
                guard i == bytes.count || bytes[i] == UInt8(ascii: "\n") else { continue }
                defer { start = i + 1 }
                guard i > start else { continue }
                let line = UnsafeBufferPointer(rebasing: bytes[start..<i])
                var partition = 0
                let tx = try? decoder.decode(line, now: now)
                if let tx {
                    var hasher = StableHash()
                    hasher.combine(tx.accountID)
                    partition = Int(hasher.value % UInt64(connections))
                }
                if let iso8583 {
                    // Each valid record as a 0200; a line that is not one cannot be converted.
                    guard let tx, let frame = try? iso8583.encode(ISO8583RequestBuilder.request(for: tx)) else {
                        unconvertible += 1
                        continue
                    }
                    partitions[partition].append(contentsOf: frame)
                } else {
                    partitions[partition].append(contentsOf: line)
                    partitions[partition].append(UInt8(ascii: "\n"))
                }
                ends[partition].append(partitions[partition].count)
                counts[partition] += 1
            }
        }
        let started = ContinuousClock.now
        let allRecords = counts.reduce(0, +)
        let sender = FailoverSender(
            addresses: addresses, tls: clientTLS, iso8583: iso8583, started: started,
            failoverTimeout: .milliseconds(Int64(max(0, failoverTimeout) * 1000)), command: "feed send")
        let tallies: [Tally]
        do {
            tallies = try await withThrowingTaskGroup(of: Tally.self) { group in
                for (index, payload) in partitions.enumerated() where counts[index] > 0 {
                    let recordEnds = ends[index]
                    let schedule = SendSchedule.share(ofTotal: rate, records: counts[index], ofAll: allRecords)
                    group.addTask { try await sender.send(payload: payload, ends: recordEnds, schedule: schedule) }
                }
                return try await group.reduce(into: []) { $0.append($1) }
            }
        } catch {
            throw CleanExit.failure("vigil feed send: cannot stream to \(host): \(error)")
        }
        let total = tallies.reduce(into: Tally()) { $0.merge($1) }
        let seconds =
            Double((ContinuousClock.now - started).components.attoseconds) / 1e18 + Double((ContinuousClock.now - started).components.seconds)
        let sent = counts.reduce(0, +)
        if unconvertible > 0 {
            FileHandle.standardError.write(Data("vigil feed send: \(unconvertible) lines are not valid records and were not sent as ISO 8583\n".utf8))
        }
        if json {
            var object: [String: Any] = [
                "sent": sent, "acked": total.acked, "duplicates": total.duplicates, "nacked": total.nacked,
                "unanswered": sent - total.total, "seconds": seconds,
            ]
            object["nacks_by_code"] = total.nacksByCode
            object["decisions"] = total.decisions
            object["degraded"] = total.degraded
            let text =
                (try? JSONSerialization.data(withJSONObject: object, options: [.sortedKeys])).map { String(decoding: $0, as: UTF8.self) } ?? "{}"
            print(text)
        } else {
            print(
                "sent \(sent) records on \(counts.filter { $0 > 0 }.count) connections in \(String(format: "%.2f", seconds)) s (\(Int(Double(sent) / max(seconds, 0.001))) records/s)"
            )
            print("acked \(total.acked) (\(total.duplicates) duplicates), nacked \(total.nacked)")
            if format.format == .iso8583 {
                // Field 39 is the answer: 00 (allowed or held for review) is counted as acked,
                // any other code as a nack `iso8583_39_<code>` below (05 is the default block).
                print("ISO 8583 responses: field 39 00 for \(total.acked), other codes below")
            } else {
                print(
                    "decisions: "
                        + DecisionOutcome.allCases.map { "\($0.rawValue) \(total.decisions[$0.rawValue, default: 0])" }.joined(separator: ", ")
                        + (total.degraded.isEmpty
                            ? ""
                            : "; fallbacks: " + total.degraded.sorted { $0.key < $1.key }.map { "\($0.key) \($0.value)" }.joined(separator: ", ")))
            }
            for (code, count) in total.nacksByCode.sorted(by: { $0.key < $1.key }) {
                print("  nack \(code): \(count)")
            }
            if sent != total.total { print("unanswered: \(sent - total.total) (the connection closed early; re-send them)") }
        }
        if sent != total.total { throw ExitCode(2) }
    }
}

/// Reply counts of one or more connections.
struct Tally: Sendable {
    var acked = 0
    var duplicates = 0
    var nacked = 0
    var nacksByCode: [String: Int] = [:]
    /// Acks by decision (`allow`, `review`, `block`), and the fallbacks among them by reason.
    var decisions: [String: Int] = [:]
    var degraded: [String: Int] = [:]
    var total: Int { acked + nacked }

    mutating func add(_ reply: FeedAcknowledgement, decision: TransactionDecision? = nil) {
        if let decision {
            decisions[decision.outcome.rawValue, default: 0] += 1
            if let reason = decision.degraded { degraded[reason.rawValue, default: 0] += 1 }
        }
        switch reply {
        case .ack(_, let duplicate):
            acked += 1
            if duplicate { duplicates += 1 }
        case .nack(_, let code, _):
            nacked += 1
            nacksByCode[code, default: 0] += 1
        }
    }

    mutating func merge(_ other: Tally) {
        acked += other.acked
        duplicates += other.duplicates
        nacked += other.nacked
        nacksByCode.merge(other.nacksByCode, uniquingKeysWith: +)
        decisions.merge(other.decisions, uniquingKeysWith: +)
        degraded.merge(other.degraded, uniquingKeysWith: +)
    }
}

/// FNV-1a: a hash that is the same in every process (Swift's `Hasher` is seeded per run).
struct StableHash {
    private(set) var value: UInt64 = 0xcbf2_9ce4_8422_2325
    mutating func combine(_ text: String) {
        for byte in text.utf8 {
            value ^= UInt64(byte)
            value &*= 0x0000_0100_0000_01b3
        }
    }
}
