import FeedServer
import Foundation
import Pipeline
import PostgresStore
import Testing
import VigilCore
import VigilTesting

/// Active/standby in one process: two servers on one database, the lease between them.
@Suite("High availability: the lease, the standby's refusal, the fencing token")
struct HighAvailabilityTests {
    private static func ha(_ name: String, lease: Duration = .seconds(2)) -> (inout ServeConfiguration) -> Void {
        { configuration in
            configuration.highAvailability = HighAvailability(lease: lease, node: name, feedAddress: "\(name).example:7400")
            configuration.feed.drainTimeout = .seconds(1)
        }
    }

    @Test("a standby answers not_leader with the leader's address and is not ready; a leader whose lease is taken is fenced and acks nothing more")
    func standbyAndFencing() async throws {
        try await TestDatabase.withMigrated { database in
            let ruleset = try compileRules(["r.rules": noRules])
            try await withVigil(database: database, ruleset: ruleset, configure: Self.ha("node-a")) { a, portA in
                let leaderA = try #require(a.leadership)
                try await waitUntil(within: .seconds(10), "node a to take the lease") { leaderA.isLeader }
                let lines = [line("ha-1"), line("ha-2"), line("ha-3")]
                let first = try await send([lines[0], lines[1]], port: portA)
                #expect(first == [.ack(id: "ha-1", duplicate: false), .ack(id: "ha-2", duplicate: false)])

                try await withVigil(database: database, ruleset: ruleset, configure: Self.ha("node-b")) { b, portB in
                    let standby = try #require(b.leadership)
                    try await waitUntil(within: .seconds(10), "node b to see node a lead") { standby.role == .standby(leader: "node-a.example:7400") }
                    // The refusal is the connection's only line: what a client needs to move on.
                    let refusal = try await FeedClient.withConnection(host: "127.0.0.1", port: portB) { try await $0.nextReply() }
                    guard case .nack(nil, "not_leader", let message) = refusal else {
                        Issue.record("a standby's feed answered \(String(describing: refusal)), not not_leader")
                        return
                    }
                    #expect(message.contains("node-a.example:7400"))
                    let readiness = await b.health.check(probe: nil)
                    #expect(!readiness.ready && readiness.detail.contains("standby"), "\(readiness)")
                    // Its ISO 20022 intake refuses too: its pipeline does not run.
                    let transfer = await b.iso20022.handle(body: Array("<Document/>".utf8), peer: "test")
                    #expect(transfer.status == 503 && transfer.body.contains("standby"), "\(transfer)")
                    #expect(a.health.readiness.ready)

                    // Node a's connection stays open across the takeover: what it sends after
                    // is refused by the fencing token, not stored, not acked.
                    try await FeedClient.withConnection(host: "127.0.0.1", port: portA) { stale in
                        try await PostgresConnection.withConnection(database) { db in
                            // The lease ends now, as if node a had stopped renewing it.
                            _ = try await db.execute("UPDATE leader_lease SET expires_at = '-infinity'")
                        }
                        try await waitUntil(within: .seconds(10), "node b to take over") { standby.isLeader }
                        try await waitUntil(within: .seconds(10), "node a to see it lost the lease") {
                            if case .lost = leaderA.role { true } else { false }
                        }
                        try await stale.send(lines: [lines[2]])
                        // The writer took it and was refused in the batch's transaction: kept, unanswered.
                        try await waitUntil(within: .seconds(10), "node a's writer to hold the fenced batch") { a.writer.uncommitted == 1 }
                        let stored = try await PostgresConnection.withConnection(database) { db in
                            try await db.count("SELECT count(*)::int FROM transactions WHERE id = 'ha-3'")
                        }
                        #expect(stored == 0, "a fenced batch must not commit")
                        #expect(!a.health.readiness.ready)
                    }
                    // The client re-sends to the new leader: stored once, acked.
                    #expect(
                        try await send([lines[2], lines[0]], port: portB) == [.ack(id: "ha-3", duplicate: false), .ack(id: "ha-1", duplicate: true)])
                    // And node a, having lost, refuses new connections too.
                    let after = try await FeedClient.withConnection(host: "127.0.0.1", port: portA) { try await $0.nextReply() }
                    if case .nack(nil, "not_leader", _) = after {} else { Issue.record("node a after losing answered \(String(describing: after))") }
                }
            }
            let lease = try await PostgresConnection.withConnection(database) { db in try await db.readLease() }
            #expect(lease?.epoch == 2, "one takeover: epochs 1 (node a) and 2 (node b)")
            #expect(lease?.live == false, "node b, shut down gracefully, released the lease for an immediate takeover")
        }
    }

    @Test("the fencing check refuses a transaction of a holder that lost the lease, and a takeover waits for a transaction past the check")
    func fencingToken() async throws {
        try await TestDatabase.withMigrated { database in
            try await PostgresConnection.withConnection(database) { a in
                try await PostgresConnection.withConnection(database) { b in
                    let epoch = try #require(try await a.acquireLease(holder: "a", feedAddress: "a:1", leaseMilliseconds: 60_000))
                    #expect(
                        try await b.acquireLease(holder: "b", feedAddress: "b:1", leaseMilliseconds: 60_000) == nil, "a running lease is not taken")
                    // A batch of a's is past its check when the lease runs out: b's takeover waits for its commit.
                    #expect(try await a.renewLease(holder: "a", epoch: epoch, leaseMilliseconds: 200))
                    try await a.execute("BEGIN")
                    #expect(try await a.holdsLease(holder: "a", epoch: epoch))
                    _ = try await a.execute("SELECT pg_sleep(0.3)")
                    #expect(
                        try await a.holdsLease(holder: "a", epoch: epoch) == false, "past its expiry the check fails, even in the same transaction")
                    let takeover = Task { try await b.acquireLease(holder: "b", feedAddress: "b:1", leaseMilliseconds: 60_000) }
                    try await PostgresConnection.withConnection(database) { observer in
                        try await waitUntil(within: .seconds(10), "b's takeover to wait for a's row lock") {
                            try await observer.count("SELECT count(*)::int FROM pg_locks WHERE NOT granted") > 0
                        }
                    }
                    try await a.execute("COMMIT")
                    let next = try await takeover.value
                    #expect(next == epoch + 1)
                    // From now on a's check fails: its transaction must roll back.
                    #expect(try await a.holdsLease(holder: "a", epoch: epoch) == false)
                    #expect(try await a.renewLease(holder: "a", epoch: epoch, leaseMilliseconds: 1000) == false)
                    #expect(try await b.holdsLease(holder: "b", epoch: epoch + 1))
                }
            }
        }
    }
}
