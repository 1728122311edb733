import FeedServer
import Foundation
import PostgresStore
import Testing

/// One malformed record and the error codes it may be nacked with.
struct BadRecord: Sendable {
    var bytes: [UInt8]
    var codes: Set<String>
}

/// The bad-input catalogue of issue 7, one of each kind per call.
func badRecords(connection c: Int, round r: Int, random: inout SeededGenerator) -> [BadRecord] {
    let id = "bad-\(c)-\(r)"
    let now = Date()
    func line(_ text: String) -> [UInt8] { Array(text.utf8) }
    var randomBytes = (0..<200).map { _ in UInt8.random(in: 0...255, using: &random) }
    randomBytes.removeAll { $0 == 10 || $0 == 13 }
    let valid = validLine(id + "-trunc", account: "acc-bad")
    var out: [BadRecord] = [
        BadRecord(bytes: randomBytes, codes: ["invalid_json", "invalid_utf8"]),
        BadRecord(bytes: line(String(valid.prefix(valid.count / 2))), codes: ["invalid_json"]),
        BadRecord(
            bytes: line(#"{"id":"\#(id)-big","note":""#) + [UInt8](repeating: UInt8(ascii: "x"), count: 1 << 20) + line(#""}"#),
            codes: ["line_too_long"]),
        BadRecord(bytes: line(#"{"id":"\#(id)-utf8","account_id":""#) + [0xC3, 0x28, 0xFF] + line(#"","amount":"1.00"}"#), codes: ["invalid_utf8"]),
        BadRecord(
            bytes: line(#"{"id":"\#(id)-type","timestamp":"\#(rfc3339(now))","account_id":"a","amount":12.5,"currency":"EUR","channel":"atm"}"#),
            codes: ["invalid_field_type"]),
        BadRecord(
            bytes: line(#"{"id":"\#(id)-type2","timestamp":"\#(rfc3339(now))","account_id":42,"amount":"1.00","currency":"EUR","channel":"atm"}"#),
            codes: ["invalid_field_type"]),
        BadRecord(
            bytes: line(#"{"id":"\#(id)-missing","timestamp":"\#(rfc3339(now))","account_id":"a","amount":"1.00","channel":"atm"}"#),
            codes: ["missing_field"]),
        BadRecord(bytes: line(validLine(id + "-huge", account: "a", amount: "99999999999999999999999999999999.00")), codes: ["invalid_amount"]),
        BadRecord(
            bytes: line(
                #"{"id":"\#(id)-lat","timestamp":"\#(rfc3339(now))","account_id":"a","amount":"1.00","currency":"EUR","channel":"atm","lat":1e999,"lon":1e999}"#
            ),
            codes: ["invalid_location", "invalid_field_type", "invalid_json"]),
        BadRecord(bytes: line(validLine(id + "-neg", account: "a", amount: "-5.00")), codes: ["invalid_amount"]),
        BadRecord(bytes: line(validLine(id + "-zero", account: "a", amount: "0.00")), codes: ["invalid_amount"]),
        BadRecord(bytes: line(validLine(id + "-future", account: "a", at: now.addingTimeInterval(400 * 86_400))), codes: ["invalid_timestamp"]),
        BadRecord(bytes: line(validLine(id + "-ancient", account: "a", at: Date(timeIntervalSince1970: 0))), codes: ["invalid_timestamp"]),
    ]
    out.shuffle(using: &random)
    return out
}

extension FaultToleranceTests {
    @Test(
        "4. a bad-input flood on many connections beside valid traffic: valid all stored, every bad record nacked and kept, server alive",
        .timeLimit(.minutes(3)))
    func badInputFlood() async throws {
        try await ScratchDatabase.with("bad") { database in
            let validCount = 3_000
            let feed = try await GeneratedFeed.make(count: validCount, seed: 17, fraudRate: 5, into: database)
            let server = try await ServeProcess.start(database: database, name: "serve")
            defer { Task { await server.stop() } }
            let goodConnections = 3
            let badConnections = 8
            let rounds = 3

            let outcome = try await withThrowingTaskGroup(of: (good: [String: [FeedAcknowledgement]], bad: [(BadRecord, FeedAcknowledgement?)]).self)
            { group in
                for g in 0..<goodConnections {
                    let indices = Array(stride(from: g, to: validCount, by: goodConnections))
                    group.addTask {
                        let seen = try await FeedStreaming.untilAllAcked(
                            indices.map { feed.lines[$0] }, ids: indices.map { feed.ids[$0] },
                            port: server.feedPort, timeout: .seconds(90))
                        return (seen, [])
                    }
                }
                for c in 0..<badConnections {
                    group.addTask {
                        var random = SeededGenerator(state: UInt64(1_000 + c))
                        let records = (0..<rounds).flatMap { badRecords(connection: c, round: $0, random: &random) }
                        let replies = try await FeedClient.withConnection(host: "127.0.0.1", port: server.feedPort) { connection in
                            let writer = connection.writer
                            let sender = Task {
                                for record in records { try await writer.send(bytes: record.bytes + [10]) }
                            }
                            let replies = try await connection.replies(count: records.count)
                            try await sender.value
                            return replies
                        }
                        return ([:], records.enumerated().map { ($0.element, $0.offset < replies.count ? replies[$0.offset] : nil) })
                    }
                }
                var good: [String: [FeedAcknowledgement]] = [:]
                var bad: [(BadRecord, FeedAcknowledgement?)] = []
                for try await part in group {
                    good.merge(part.0) { $0 + $1 }
                    bad += part.1
                }
                return (good, bad)
            }

            #expect(outcome.0.count == validCount)
            let stored = try await storedOnce(feed.ids, in: database)
            #expect(stored.missing == 0 && stored.extra == 0 && stored.duplicated == 0, "\(stored)")
            var nackedCodes: [String: Int] = [:]
            for (record, reply) in outcome.1 {
                let preview = String(decoding: record.bytes.prefix(80), as: UTF8.self)
                guard case .nack(_, let code, _) = reply else {
                    Issue.record("bad record \(preview) got \(String(describing: reply))")
                    continue
                }
                #expect(record.codes.contains(code), "\(preview): nacked \(code), expected one of \(record.codes.sorted())")
                nackedCodes[code, default: 0] += 1
            }
            #expect(outcome.1.count == badConnections * rounds * 13)
            // Each nack has its rejected_records row with the same code.
            let rows = try await PostgresConnection.withConnection(database.configuration) { db in
                try await db.query("SELECT error_code, count(*) FROM rejected_records GROUP BY 1")
            }
            var storedCodes: [String: Int] = [:]
            for row in rows { storedCodes[try row.decode(0, as: String.self)] = try row.decode(1, as: Int.self) }
            #expect(storedCodes == nackedCodes)
            #expect(
                try await database.count(
                    "SELECT count(*) FROM rejected_records WHERE error_code = 'line_too_long' AND octet_length(raw_bytes) <= 65536") == nackedCodes[
                        "line_too_long"] ?? -1)

            #expect(server.child.isRunning)
            #expect(Network.get(port: server.opsPort, path: "/healthz")?.status == 200)
            let after = await FeedStreaming.once([validLine("after-flood", account: "acc-1")], port: server.feedPort)
            #expect(after.replies == [.ack(id: "after-flood", duplicate: false)])
        }
    }
}
