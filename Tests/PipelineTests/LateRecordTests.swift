import FeedServer
import Foundation
import Pipeline
import PostgresStore
import Testing
import VigilCore
import VigilTesting

private let lateRules = """
    window txn_per_account_1h = count by account_id over 1h

    rule account_burst {
      description "ten transactions on one account in an hour"
      when window.txn_per_account_1h >= 10
      severity medium
      score 30
      reason "{window.txn_per_account_1h} transactions in the last hour"
    }

    rule late_record {
      description "a record dated well before its account's newest one"
      when is_late
      severity low
      score 1
      mode shadow
      reason "late"
    }
    """

@Suite("Late and out-of-order records, through the TCP port")
struct LateRecordTests {
    @Test("a back-dated record is stored and flagged, raises no velocity alert and does not count in windows or the profile")
    func backDatedRecordDoesNotPoisonWindows() async throws {
        try await TestDatabase.withMigrated { database in
            let ruleset = try compileRules(["late.rules": lateRules])
            try await withVigil(database: database, ruleset: ruleset) { _, port in
                // Nine on time (a day ahead of the back-dated one's era), one minute apart.
                let start = Timestamp.now().adding(microseconds: -30 * 60 * 1_000_000)
                let onTime = (0..<9).map { i in line("ot-\(i)", account: "acc-late", at: start.adding(microseconds: Int64(i) * 60_000_000)) }
                _ = try await send(onTime, port: port)
                // Months earlier: before the policy it was counted at the newest time and
                // saw ten transactions "in the last hour".
                let monthsEarlier = start.adding(microseconds: -120 * 24 * 3_600 * 1_000_000)
                let replies = try await send([line("back-1", account: "acc-late", at: monthsEarlier)], port: port)
                #expect(replies.count == 1)
                if case .ack(let id, let duplicate) = replies.first {
                    #expect(id == "back-1" && !duplicate)
                } else {
                    Issue.record("expected an ack, got \(String(describing: replies.first))")
                }
                // Slightly late (within the 5-minute allowance): counted like any other.
                let slightlyLate = start.adding(microseconds: 6 * 60_000_000)
                _ = try await send([line("ot-late-ok", account: "acc-late", at: slightlyLate)], port: port)

                try await PostgresConnection.withConnection(database) { db in
                    #expect(try await db.count("SELECT count(*) FROM transactions WHERE late") == 1)
                    #expect(try await db.count("SELECT count(*) FROM transactions WHERE late AND id = 'back-1'") == 1)
                    #expect(try await db.count("SELECT count(*) FROM alerts") == 1, "only the tenth counted record alerts")
                    let alerted = try await db.query("SELECT transaction_id FROM alerts").map { try $0.decode(0, as: String.self) }
                    #expect(alerted == ["ot-late-ok"], "the back-dated record must not alert; the tenth counted one must")
                    let reason = try await db.query("SELECT reason FROM rule_hits WHERE rule_id = 'account_burst'").first?.decode(0, as: String.self)
                    #expect(reason == "10 transactions in the last hour")
                    // The rules can see the flag.
                    let lateHits = try await db.query("SELECT transaction_id FROM rule_hits WHERE rule_id = 'late_record'").map {
                        try $0.decode(0, as: String.self)
                    }
                    #expect(lateHits == ["back-1"])
                }
            }
            // The profile counts the ten records in time, not the back-dated one.
            let profileCount = try await PostgresConnection.withConnection(database) { db in
                try await db.count("SELECT txn_count FROM account_profiles WHERE account_id = 'acc-late'")
            }
            #expect(profileCount == 10)
        }
    }

    @Test("the allowed lateness is configurable: with zero, any record dated before its account's newest is late")
    func zeroLateness() async throws {
        try await TestDatabase.withMigrated { database in
            let ruleset = try compileRules(["late.rules": lateRules])
            try await withVigil(database: database, ruleset: ruleset, configure: { $0.allowedLateness = .zero }) { _, port in
                let now = Timestamp.now()
                _ = try await send([line("z-1", account: "acc-z", at: now)], port: port)
                _ = try await send([line("z-0", account: "acc-z", at: now.adding(microseconds: -1_000_000))], port: port)
                _ = try await send([line("z-2", account: "acc-z", at: now)], port: port)  // the same instant is not late
                let late = try await PostgresConnection.withConnection(database) { db in
                    try await db.query("SELECT id FROM transactions WHERE late ORDER BY id").map { try $0.decode(0, as: String.self) }
                }
                #expect(late == ["z-0"])
            }
        }
    }
}
