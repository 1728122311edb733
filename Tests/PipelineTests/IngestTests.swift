import FeedServer
import Foundation
import Pipeline
import PostgresStore
import Testing
import VigilCore
import VigilTesting

/// A ruleset with no rules: ingest on its own.
let noRules = """
    rule never {
      description "never hits"
      when amount_base < 0.00
      severity low
      score 1
      reason "never"
    }
    """

@Suite("Durable ingest through the TCP port, real PostgreSQL")
struct IngestTests {
    @Test("every transaction is acked once and stored once; a re-send is all duplicates")
    func ackedOnceStoredOnce() async throws {
        try await TestDatabase.withMigrated { database in
            let ruleset = try compileRules(["r.rules": noRules])
            try await withVigil(database: database, ruleset: ruleset) { _, port in
                let lines = (0..<2_000).map { line("t-\($0)", account: "acc-\($0 % 37)") }
                // Split over three connections, each account on one connection.
                let byConnection = Dictionary(grouping: lines.indices, by: { $0 % 37 % 3 }).values.map { $0.map { lines[$0] } }
                let first = try await withThrowingTaskGroup(of: [FeedAcknowledgement].self) { group in
                    for part in byConnection { group.addTask { try await send(part, port: port) } }
                    return try await group.reduce(into: []) { $0 += $1 }
                }
                #expect(first.count == 2_000)
                #expect(first.allSatisfy { $0 == .ack(id: $0.id ?? "", duplicate: false) })
                #expect(Set(first.compactMap(\.id)).count == 2_000)

                let again = try await send(lines, port: port)
                #expect(again.count == 2_000)
                #expect(again.allSatisfy { if case .ack(_, true) = $0 { true } else { false } })

                let db = try await PostgresConnection.connect(database)
                #expect(try await db.count("SELECT count(*) FROM transactions") == 2_000)
                #expect(try await db.count("SELECT count(DISTINCT id) FROM transactions") == 2_000)
            }
        }
    }

    @Test("each malformed-input class gets its nack and a rejected_records row; the connection goes on")
    func malformedInput() async throws {
        try await TestDatabase.withMigrated { database in
            let ruleset = try compileRules(["r.rules": noRules])
            try await withVigil(database: database, ruleset: ruleset, configure: { $0.feed.maximumLineLength = 4096 }) { _, port in
                let bad: [(String, String)] = [
                    ("not json at all", "invalid_json"),
                    (#"{"id":"m1","timestamp":"2026-11-24T10:15:00Z","amount":"1.00","currency":"EUR","channel":"atm"}"#, "missing_field"),
                    (line("m2", amount: "-5.00"), "invalid_amount"),
                    (line("m3", amount: "0.00"), "invalid_amount"),
                    (line("m4", amount: "99999999999999999999.00"), "invalid_amount"),
                    (line("m5", currency: "XYZ"), "invalid_currency"),
                    (line("m6", at: Timestamp(secondsSinceEpoch: 0)), "invalid_timestamp"),
                    (line("m7", at: Timestamp.now().adding(microseconds: 400 * 86_400 * 1_000_000)), "invalid_timestamp"),
                    (line("m8", channel: "pigeon"), "unknown_channel"),
                    (
                        #"{"id":"m9","timestamp":"2026-11-24T10:15:00Z","account_id":"a","amount":12.5,"currency":"EUR","channel":"atm"}"#,
                        "invalid_field_type"
                    ),
                    (String(repeating: "x", count: 10_000), "line_too_long"),
                ]
                var lines = bad.map(\.0)
                lines.append(line("ok-after-bad"))
                var replies = try await send(lines, port: port)
                let last = replies.removeLast()
                #expect(last == .ack(id: "ok-after-bad", duplicate: false))
                for (reply, expected) in zip(replies, bad) {
                    guard case .nack(_, let code, _) = reply else {
                        Issue.record("\(expected.1): got \(reply)")
                        continue
                    }
                    #expect(code == expected.1)
                }
                // Invalid UTF-8 bytes: kept, escaped, in the rejects table.
                let invalidUTF8: [UInt8] = Array(#"{"id":"u1","note":""#.utf8) + [0xFF, 0xFE] + Array("\"}\n".utf8)
                let utf8Reply = try await FeedClient.withConnection(host: "127.0.0.1", port: port) { connection in
                    try await connection.send(bytes: invalidUTF8)
                    return try await connection.nextReply()
                }
                if case .nack(_, let code, _) = utf8Reply {
                    #expect(code == "invalid_utf8")
                } else {
                    Issue.record("got \(String(describing: utf8Reply))")
                }

                let db = try await PostgresConnection.connect(database)
                #expect(try await db.count("SELECT count(*) FROM rejected_records") == bad.count + 1)
                let codes = try await db.query("SELECT error_code FROM rejected_records").map { try $0.decode(0, as: String.self) }
                #expect(Set(codes) == Set(bad.map(\.1) + ["invalid_utf8"]))
                let escaped = try await db.query("SELECT raw_line, peer FROM rejected_records WHERE error_code = 'invalid_utf8'").first
                #expect(try escaped?.decode(0, as: String.self).contains("\\xff\\xfe") == true)
                #expect(try escaped?.decodeIfPresent(1, as: String.self)?.contains("127.0.0.1") == true)
                #expect(try await db.count("SELECT count(*) FROM transactions") == 1)
            }
        }
    }

    @Test("connections killed by PostgreSQL mid-stream: the stages reconnect and nothing acked is lost")
    func postgresConnectionsTerminated() async throws {
        try await TestDatabase.withMigrated { database in
            let ruleset = try compileRules(["r.rules": noRules])
            try await withVigil(database: database, ruleset: ruleset) { server, port in
                #expect(await eventually { server.health.readiness.ready })
                let admin = try await PostgresConnection.connect(database)
                let lines = (0..<6_000).map { line("k-\($0)", account: "acc-\($0 % 11)") }
                let replies = try await FeedClient.withConnection(host: "127.0.0.1", port: port) { connection in
                    let writer = connection.writer
                    let payload = Array(lines.joined(separator: "\n").utf8) + [10]
                    let sender = Task { try await writer.send(bytes: payload) }
                    var received: [FeedAcknowledgement] = []
                    var killed = false
                    while received.count < lines.count, let reply = try await connection.nextReply() {
                        received.append(reply)
                        if !killed && received.count >= 1_500 {
                            killed = true
                            try await admin.execute(
                                """
                                SELECT pg_terminate_backend(pid) FROM pg_stat_activity
                                WHERE datname = current_database() AND pid <> pg_backend_pid()
                                """)
                        }
                    }
                    try await sender.value
                    return received
                }
                #expect(replies.count == lines.count)
                #expect(replies.compactMap(\.id) == lines.indices.map { "k-\($0)" })
                let fresh = try await PostgresConnection.connect(database)
                #expect(try await fresh.count("SELECT count(*) FROM transactions") == lines.count)
                let restarts = server.status.flatMap(\.children).map(\.restartCount).reduce(0, +)
                #expect(restarts >= 1)
            }
        }
    }
}
