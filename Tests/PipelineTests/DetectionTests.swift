import FeedServer
import Foundation
import Pipeline
import PostgresStore
import Testing
import VigilCore
import VigilTesting

let velocityRules = """
    window cnp_per_card_10m = count by card_id over 10m where channel == "card_not_present"
    window txn_per_account_1h = count by account_id over 1h

    rule card_burst {
      description "five card-not-present charges on one card in ten minutes"
      require card_id
      when window.cnp_per_card_10m >= 5
      severity high
      score 80
      reason "{window.cnp_per_card_10m} CNP charges on {card_id}"
    }

    rule account_burst {
      description "five transactions on one account in an hour"
      when window.txn_per_account_1h >= 5
      severity medium
      score 30
      reason "{window.txn_per_account_1h} transactions in an hour"
    }

    rule big_amount_shadow {
      description "large amounts, being evaluated in shadow mode"
      when amount_base >= 500.00
      severity low
      score 10
      mode shadow
      reason "{amount_base} is large"
    }
    """

@Suite("Detection inside the pipeline, through the TCP port")
struct DetectionTests {
    @Test("a card-keyed window counts one card across accounts owned by different workers")
    func cardWindowAcrossAccounts() async throws {
        try await TestDatabase.withMigrated { database in
            let ruleset = try compileRules(["v.rules": velocityRules])
            try await withVigil(database: database, ruleset: ruleset, configure: { $0.detectionWorkers = 4 }) { server, port in
                let start = Timestamp.now().adding(microseconds: -3_600 * 1_000_000)
                let lines = (0..<5).map { i in
                    line(
                        "c-\(i)", account: "acc-\(i)", at: start.adding(microseconds: Int64(i) * 60_000_000),
                        amount: "1.00", channel: "card_not_present", card: "card-shared")
                }
                // The five accounts really are spread over several workers.
                #expect(Set((0..<5).map { server.detection.partition(of: "acc-\($0)") }).count > 1)
                for l in lines { _ = try await send([l], port: port) }  // in order
                let db = try await PostgresConnection.connect(database)
                let alerted = try await db.query("SELECT transaction_id FROM alerts ORDER BY id").map { try $0.decode(0, as: String.self) }
                #expect(alerted == ["c-4"])
                let reason = try await db.query("SELECT reason FROM rule_hits WHERE rule_id = 'card_burst'").first?.decode(0, as: String.self)
                #expect(reason == "5 CNP charges on card-shared")
            }
        }
    }

    @Test("shadow-mode hits are stored without raising an alert; alerts record score, severity and version")
    func shadowAndAlertRecords() async throws {
        try await TestDatabase.withMigrated { database in
            let ruleset = try compileRules(["v.rules": velocityRules])
            try await withVigil(database: database, ruleset: ruleset) { _, port in
                let start = Timestamp.now().adding(microseconds: -3_600 * 1_000_000)
                let lines = (0..<5).map { i in
                    line("s-\(i)", account: "acc-s", at: start.adding(microseconds: Int64(i) * 60_000_000), amount: i == 0 ? "900.00" : "20.00")
                }
                _ = try await send(lines, port: port)
                let db = try await PostgresConnection.connect(database)
                let shadow = try await db.query("SELECT transaction_id, mode FROM rule_hits WHERE rule_id = 'big_amount_shadow'")
                #expect(shadow.count == 1)
                #expect(try shadow.first?.decode(0, as: String.self) == "s-0")
                #expect(try shadow.first?.decode(1, as: String.self) == "shadow")
                let alerts = try await db.query("SELECT transaction_id, severity, total_score, ruleset_version, rules->0->>'rule' FROM alerts")
                #expect(alerts.count == 1)
                let alert = try #require(alerts.first)
                #expect(try alert.decode(0, as: String.self) == "s-4")
                #expect(try alert.decode(1, as: String.self) == "medium")
                #expect(try alert.decode(2, as: Int.self) == 30)
                #expect(try alert.decode(3, as: String.self) == ruleset.version)
                #expect(try alert.decode(4, as: String.self) == "account_burst")
                #expect(try await db.count("SELECT count(*) FROM ruleset_versions WHERE version = \(ruleset.version)") == 1)
            }
        }
    }

    @Test("profiles lost since the last checkpoint are rebuilt from the stored transactions at start")
    func profilesRebuiltAfterCrash() async throws {
        try await TestDatabase.withMigrated { database in
            let ruleset = try compileRules(["v.rules": velocityRules])
            let start = Timestamp.now().adding(microseconds: -3_000 * 1_000_000)
            let lines = (0..<4).map { i in line("x-\(i)", account: "acc-x", at: start.adding(microseconds: Int64(i) * 60_000_000)) }
            try await withVigil(database: database, ruleset: ruleset) { _, port in
                _ = try await send(lines, port: port)
            }
            // As if the process had died before its last checkpoint.
            let db = try await PostgresConnection.connect(database)
            try await db.execute("DELETE FROM account_profiles")
            try await db.execute("UPDATE profile_checkpoints SET through = '-infinity'")
            try await withVigil(database: database, ruleset: ruleset) { server, port in
                #expect(await eventually { server.health.readiness.ready })
                _ = try await send([line("x-4", account: "acc-x", at: start.adding(microseconds: 4 * 60_000_000))], port: port)
            }
            #expect(try await db.count("SELECT txn_count FROM account_profiles WHERE account_id = 'acc-x'") == 5)
        }
    }

    @Test("a restart between two halves of a velocity pattern still catches it")
    func restartKeepsWindows() async throws {
        try await TestDatabase.withMigrated { database in
            let ruleset = try compileRules(["v.rules": velocityRules])
            let start = Timestamp.now().adding(microseconds: -3_000 * 1_000_000)
            let lines = (0..<5).map { i in
                line("r-\(i)", account: "acc-r", at: start.adding(microseconds: Int64(i) * 120_000_000), amount: "15.00")
            }
            try await withVigil(database: database, ruleset: ruleset) { _, port in
                _ = try await send(Array(lines.prefix(3)), port: port)
            }
            let db = try await PostgresConnection.connect(database)
            #expect(try await db.count("SELECT txn_count FROM account_profiles WHERE account_id = 'acc-r'") == 3)
            try await withVigil(database: database, ruleset: ruleset) { server, port in
                #expect(await eventually { server.health.readiness.ready })
                _ = try await send(Array(lines.suffix(2)), port: port)
            }
            let alerted = try await db.query("SELECT transaction_id FROM alerts").map { try $0.decode(0, as: String.self) }
            #expect(alerted == ["r-4"])
            #expect(try await db.count("SELECT txn_count FROM account_profiles WHERE account_id = 'acc-r'") == 5)
        }
    }

    @Test("after a restart, with the stored ids loaded, a replay is still not counted twice and new records are")
    func replayAfterRestartWithLoadedFilter() async throws {
        try await TestDatabase.withMigrated { database in
            let ruleset = try compileRules(["v.rules": velocityRules])
            let start = Timestamp.now().adding(microseconds: -3_000 * 1_000_000)
            let lines = (0..<5).map { i in line("q-\(i)", account: "acc-q", at: start.adding(microseconds: Int64(i) * 60_000_000)) }
            try await withVigil(database: database, ruleset: ruleset) { _, port in
                _ = try await send(Array(lines[0..<3]), port: port)
            }
            try await withVigil(database: database, ruleset: ruleset) { server, port in
                // The replay must meet the loaded filter, not the lookup of every id before it.
                #expect(await server.storedIDsLoaded.wait(timeout: .seconds(20)))
                #expect(server.storedIDs.isLoaded)
                let again = try await send(Array(lines[0..<3]), port: port)
                #expect(again.allSatisfy { if case .ack(_, true) = $0 { true } else { false } })
                // Five in the hour only with the fifth: three stored before, then q-3 and q-4.
                _ = try await send(Array(lines[3..<5]), port: port)
                let db = try await PostgresConnection.connect(database)
                let alerted = try await db.query("SELECT transaction_id FROM alerts").map { try $0.decode(0, as: String.self) }
                #expect(alerted == ["q-4"])
            }
            let db = try await PostgresConnection.connect(database)
            #expect(try await db.count("SELECT txn_count FROM account_profiles WHERE account_id = 'acc-q'") == 5)
        }
    }

    @Test("a replay of stored transactions raises no second alert and does not count twice")
    func replayDoesNotDoubleCount() async throws {
        try await TestDatabase.withMigrated { database in
            let ruleset = try compileRules(["v.rules": velocityRules])
            try await withVigil(database: database, ruleset: ruleset) { _, port in
                let start = Timestamp.now().adding(microseconds: -3_000 * 1_000_000)
                let lines = (0..<3).map { i in
                    line("p-\(i)", account: "acc-p", at: start.adding(microseconds: Int64(i) * 60_000_000))
                }
                _ = try await send(lines, port: port)
                let again = try await send(lines, port: port)  // 3 more sends of the same ids would make 6 if counted
                #expect(again.allSatisfy { if case .ack(_, true) = $0 { true } else { false } })
                let db = try await PostgresConnection.connect(database)
                #expect(try await db.count("SELECT count(*) FROM alerts") == 0)
            }
            // Profiles are checkpointed every few seconds and at shutdown.
            let db = try await PostgresConnection.connect(database)
            #expect(try await db.count("SELECT txn_count FROM account_profiles WHERE account_id = 'acc-p'") == 3)
        }
    }
}
