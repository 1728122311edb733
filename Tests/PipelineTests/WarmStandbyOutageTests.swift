import Detection
import FeedServer
import Foundation
import PostgresStore
import Supervision
import Testing
import VigilCore
import VigilTesting

@testable import Pipeline

@Suite("Warm standby: the tail survives losing PostgreSQL")
struct WarmStandbyOutageTests {
    /// The standby's sessions, named apart from the leader's (its lease session, `-lease`, is spared).
    static func standby(_ name: String) -> (inout ServeConfiguration) -> Void {
        { configuration in
            WarmStandbyTests.ha(name)(&configuration)
            configuration.database.applicationName = "vigil-\(name)"
        }
    }

    /// How often the child named `name` was restarted, wherever it sits in the tree.
    static func restarts(of name: String, in statuses: [SupervisorStatus]) -> Int {
        statuses.reduce(0) { total, status in
            total
                + status.children.reduce(0) { sum, child in
                    sum + (child.name == name ? child.restartCount : 0) + restarts(of: name, in: child.nested.map { [$0] } ?? [])
                }
        }
    }

    @Test("its sessions terminated four times while the leader commits, the standby still holds at takeover what the leader held, and leads")
    func tailSurvivesTerminatedSessions() async throws {
        try await TestDatabase.withMigrated { database in
            let ruleset = try compileRules(["w.rules": warmStandbyRules])
            let start = Timestamp.now().adding(microseconds: -3 * 3_600 * 1_000_000)
            let newest = start.adding(microseconds: Int64(23 * 120 + 39) * 1_000_000)
            let (atTakeover, leaderHeld, restarts) = try await withVigil(
                database: database, ruleset: ruleset, configure: WarmStandbyTests.ha("outage-a")
            ) { a, portA in
                let leaderA = try #require(a.leadership)
                try await waitUntil(within: .seconds(10), "node a to take the lease") { leaderA.isLeader }
                try await WarmStandbyTests.sendRounds(0..<4, start: start, port: portA)
                return try await withVigil(database: database, ruleset: ruleset, configure: Self.standby("outage-b")) { b, portB in
                    let standby = try #require(b.leadership)
                    try await waitUntil(within: .seconds(30), "node b to load its state as a standby") {
                        b.bootstrap.tail.progress.withLock { $0.loaded }
                    }
                    try await PostgresConnection.withConnection(database) { db in
                        for rounds in [4..<8, 8..<12, 12..<16, 16..<20] {
                            // The leader commits while the standby's sessions are cut.
                            let sending = Task { try await WarmStandbyTests.sendRounds(rounds, start: start, port: portA) }
                            let restartsBefore = Self.restarts(of: "state", in: b.status)
                            try await waitUntil(within: .seconds(10), "the leader to commit a round of \(rounds)") {
                                try await db.count("SELECT count(*)::int FROM transactions") > rounds.lowerBound * 40
                            }
                            let killed = try await db.count(
                                "SELECT count(pg_terminate_backend(pid))::int FROM pg_stat_activity WHERE application_name = 'vigil-outage-b'")
                            #expect(killed >= 1)
                            try await waitUntil(within: .seconds(20), "the standby's state child to notice and restart") {
                                Self.restarts(of: "state", in: b.status) > restartsBefore
                            }
                            try await sending.value
                            // Back on a new session, it reads on from where it stood.
                            let stored = try await DetectionStore.latestPosition(on: db)
                            try await waitUntil(within: .seconds(30), "node b to apply what node a committed during the cut") {
                                b.bootstrap.tail.progress.withLock { $0.position } == stored
                            }
                        }
                    }
                    // The last rounds are caught up at the takeover.
                    try await WarmStandbyTests.sendRounds(20..<24, start: start, port: portA)
                    let leaderHeld = DetectionContents(a.detection, at: newest)
                    try await WarmStandbyTests.handOver(from: "outage-a", to: standby, database: database)
                    try await waitUntil(within: .seconds(20), "node b to be ready") { b.health.readiness.ready }
                    let atTakeover = DetectionContents(b.detection, at: newest)
                    // And it leads: a new record is stored and acked once.
                    let after = line("outage-new", account: "acc-3", at: newest.adding(microseconds: 1_000_000), card: "card-3")
                    #expect(try await send([after], port: portB) == [.ack(id: "outage-new", duplicate: false)])
                    return (atTakeover, leaderHeld, Self.restarts(of: "state", in: b.status))
                }
            }
            #expect(restarts >= 4)
            #expect(leaderHeld.profiles.count == 40)
            #expect(leaderHeld.profiles["acc-1"]?.count == 24)
            #expect(atTakeover == leaderHeld, "the standby whose sessions were cut holds at takeover what the leader held")
            if atTakeover != leaderHeld { WarmStandbyTests.explain(atTakeover, leaderHeld) }
            let (stored, distinct, alertedTwice) = try await PostgresConnection.withConnection(database) { db in
                (
                    try await db.count("SELECT count(*)::int FROM transactions"),
                    try await db.count("SELECT count(DISTINCT id)::int FROM transactions"),
                    try await db.count("SELECT count(*)::int FROM (SELECT transaction_id FROM alerts GROUP BY 1 HAVING count(*) > 1) d")
                )
            }
            #expect(stored == 24 * 40 + 1)
            #expect(distinct == stored)
            #expect(alertedTwice == 0)
        }
    }
}
