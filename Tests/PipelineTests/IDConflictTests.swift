import FeedServer
import Foundation
import Pipeline
import PostgresStore
import Testing
import VigilCore
import VigilTesting

/// Counts per account and per card: a record counted twice, or a conflicting record
/// counted at all, makes the second transaction of its account or card hit.
let repeatRules = """
    window per_account_1h = count by account_id over 1h
    window per_card_1h = count by card_id over 1h

    rule second_on_account {
      description "a second transaction on the account within the hour"
      when window.per_account_1h >= 2
      severity low
      score 5
      reason "{window.per_account_1h} on the account"
    }

    rule second_on_card {
      description "a second transaction on the card within the hour"
      require card_id
      when window.per_card_1h >= 2
      severity low
      score 5
      reason "{window.per_card_1h} on the card"
    }
    """

@Suite("A reused id: replay or conflict, through the TCP port and real PostgreSQL")
struct IDConflictTests {
    @Test("the same id with the same content is a duplicate, however the line is spelled")
    func replayIsDuplicate() async throws {
        try await TestDatabase.withMigrated { database in
            let ruleset = try compileRules(["r.rules": repeatRules])
            try await withVigil(database: database, ruleset: ruleset) { server, port in
                let original =
                    #"{"id":"r-1","timestamp":"2026-11-24T10:15:00.123Z","account_id":"acc-1","amount":"25.00","currency":"EUR","channel":"card_present","card_id":"card-1","lat":52.52,"lon":13.4}"#
                // The same transaction: other key order, whitespace, an escaped character,
                // the amount with one decimal, the time in another offset.
                let respelled =
                    #"{ "lon": 13.40, "lat": 52.520, "card_id": "card-1", "channel": "card_present", "currency": "EUR", "amount": "25.0", "account_id": "acc\u002d1", "timestamp": "2026-11-24T11:15:00.123+01:00", "id": "r-1" }"#
                #expect(try await send([original], port: port) == [.ack(id: "r-1", duplicate: false)])
                #expect(try await send([original], port: port) == [.ack(id: "r-1", duplicate: true)])
                #expect(try await send([respelled], port: port) == [.ack(id: "r-1", duplicate: true)])
                // Replays in flight together with the original, on one connection.
                let again = line("r-2", account: "acc-2", card: "card-2")
                let replies = try await send([again, again, again], port: port)
                #expect(replies == [.ack(id: "r-2", duplicate: false), .ack(id: "r-2", duplicate: true), .ack(id: "r-2", duplicate: true)])

                let db = try await PostgresConnection.connect(database)
                #expect(try await db.count("SELECT count(*) FROM transactions") == 2)
                #expect(try await db.count("SELECT count(*) FROM rejected_records") == 0)
                #expect(try await db.count("SELECT count(*) FROM transactions WHERE content_digest IS NULL") == 0)
                // Counted once in the windows: no second transaction on the account or card.
                #expect(try await db.count("SELECT count(*) FROM rule_hits") == 0)
                #expect(server.inFlight.count == 0)
            }
        }
    }

    @Test("the same id with other content is nacked id_conflict, kept with both digests, the stored one unchanged")
    func conflictIsNacked() async throws {
        try await TestDatabase.withMigrated { database in
            let ruleset = try compileRules(["r.rules": repeatRules])
            try await withVigil(database: database, ruleset: ruleset) { _, port in
                let at = Timestamp.now()
                let first = line("tx-1", account: "acc-1", at: at, amount: "10.00", currency: "EUR")
                let reused = line("tx-1", account: "acc-2", at: at, amount: "9999.00", currency: "USD")
                #expect(try await send([first], port: port) == [.ack(id: "tx-1", duplicate: false)])
                let reply = try #require(try await send([reused], port: port).first)
                guard case .nack(let id, let code, let message) = reply else {
                    Issue.record("expected a nack for the reused id, got \(reply)")
                    return
                }
                #expect(id == "tx-1" && code == "id_conflict")
                #expect(message.contains("'tx-1'") && message.contains("different content") && message.contains("new id"))

                let db = try await PostgresConnection.connect(database)
                let stored = try #require(
                    try await db.query(
                        """
                        SELECT account_id, amount_minor, currency, content_digest FROM transactions WHERE id = 'tx-1'
                        """
                    ).first)
                #expect(try stored.decode(0, as: String.self) == "acc-1")
                #expect(try stored.decode(1, as: Int64.self) == 1000)
                #expect(try stored.decode(2, as: String.self) == "EUR")
                let storedDigest = try stored.decode(3, as: PostgresBytes.self)
                let rejected = try await db.query(
                    """
                    SELECT record_id, error_code, message, stored_digest, received_digest, raw_line, peer FROM rejected_records
                    """)
                #expect(rejected.count == 1)
                let row = try #require(rejected.first)
                #expect(try row.decode(0, as: String.self) == "tx-1")
                #expect(try row.decode(1, as: String.self) == "id_conflict")
                #expect(try row.decode(2, as: String.self) == message)
                #expect(try row.decode(3, as: PostgresBytes.self) == storedDigest)
                let received = try row.decode(4, as: PostgresBytes.self)
                #expect(received.bytes.count == 32 && received != storedDigest)
                #expect(try row.decode(5, as: String.self) == reused)
                let peer = try row.decodeIfPresent(6, as: String.self)
                #expect(peer?.contains("127.0.0.1") == true, "peer \(String(describing: peer))")
                #expect(try await db.count("SELECT count(*) FROM transactions") == 1)
            }
        }
    }

    @Test("a conflicting record in flight with the original, on an account of another worker, touches no detection state")
    func conflictInFlightLeavesNoTrace() async throws {
        try await TestDatabase.withMigrated { database in
            let ruleset = try compileRules(["r.rules": repeatRules])
            try await withVigil(database: database, ruleset: ruleset, configure: { $0.detectionWorkers = 4 }) { server, port in
                let home = "acc-a"
                let other = try #require(
                    (0..<50).map { "acc-b\($0)" }.first {
                        server.detection.partition(of: $0) != server.detection.partition(of: home)
                    })
                // Sent in one write: all are in flight before any is stored.
                let at = Timestamp.now()
                let original = line("c-1", account: home, at: at, amount: "10.00", card: "card-a")
                let replies = try await send(
                    [
                        original, line("c-1", account: other, at: at, amount: "9999.00", currency: "USD", card: "card-b"), original,
                    ], port: port)
                #expect(replies.count == 3)
                #expect(replies.first == .ack(id: "c-1", duplicate: false))
                if case .nack(_, let code, _) = replies[1] { #expect(code == "id_conflict") } else { Issue.record("got \(replies[1])") }
                #expect(replies.last == .ack(id: "c-1", duplicate: true))
                // A genuine first transaction on the other account and card: nothing counted before it.
                #expect(try await send([line("c-2", account: other, card: "card-b")], port: port) == [.ack(id: "c-2", duplicate: false)])
                let db = try await PostgresConnection.connect(database)
                #expect(try await db.count("SELECT count(*) FROM rule_hits") == 0)
                #expect(try await db.count("SELECT count(*) FROM rejected_records WHERE error_code = 'id_conflict'") == 1)
                // Every id was let go once its record was answered (the table does not grow).
                #expect(server.inFlight.count == 0)
            }
            // Profiles are checkpointed at shutdown: the other account has seen one transaction.
            let db = try await PostgresConnection.connect(database)
            #expect(try await db.count("SELECT txn_count FROM account_profiles WHERE account_id LIKE 'acc-b%'") == 1)
            #expect(try await db.count("SELECT txn_count FROM account_profiles WHERE account_id = 'acc-a'") == 1)
        }
    }
}
