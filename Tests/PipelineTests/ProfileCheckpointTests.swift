import Detection
import PostgresStore
import Testing
import VigilCore
import VigilTesting

@testable import Pipeline

@Suite("Profile checkpoints: paced, and exact across a crash")
struct ProfileCheckpointTests {
    private func profile(count: Int64) -> AccountProfile {
        var profile = AccountProfile()
        profile.count = count
        return profile
    }

    @Test("profiles are taken once they are old enough, oldest first, and the replay marker stays before those left")
    func pacedTake() throws {
        let dirty = DirtyProfiles()
        let t1 = Timestamp(microsecondsSinceEpoch: 1_000_000)
        let t2 = t1.adding(microseconds: 5_000_000)
        let t3 = t2.adding(microseconds: 5_000_000)
        dirty.add([("a", profile(count: 1))], through: t1)
        dirty.add([("b", profile(count: 1)), ("a", profile(count: 2))], through: t2)
        dirty.add([("c", profile(count: 1))], through: t3)

        #expect(dirty.take(changedBy: t1.adding(microseconds: -1), limit: 10) == nil)
        let first = try #require(dirty.take(changedBy: t2, limit: 1))
        // "a" changed first (t1) and its latest profile goes out, with the newest batch it includes.
        #expect(first.profiles.keys.sorted() == ["a"])
        #expect(first.profiles["a"]?.count == 2)
        #expect(first.through == t3)
        // "b" (changed at t2) is still unwritten: the replay must start before it.
        #expect(first.replayFrom == t2.adding(microseconds: -1))

        let rest = try #require(dirty.take(changedBy: nil, limit: 10))
        #expect(rest.profiles.keys.sorted() == ["b", "c"])
        #expect(rest.replayFrom == t3)  // nothing left behind
        #expect(dirty.count == 0)

        // A failed write is put back; a newer change made meanwhile wins but keeps the older start.
        dirty.add([("b", profile(count: 5))], through: t3.adding(microseconds: 1))
        dirty.restore(rest)
        let again = try #require(dirty.take(changedBy: nil, limit: 10))
        #expect(again.profiles["b"]?.count == 5)
        #expect(again.profiles["c"]?.count == 1)
        #expect(again.sinces["b"] == t2)
    }

    @Test("after a crash, a profile written part-way is replayed only with what its row lacks; one never written gets everything")
    func crashBetweenPacedCheckpoints() async throws {
        try await TestDatabase.withMigrated { database in
            let ruleset = try compileRules(["v.rules": velocityRules])
            let start = Timestamp.now().adding(microseconds: -3_000 * 1_000_000)
            @Sendable func at(_ minute: Int64) -> Timestamp { start.adding(microseconds: minute * 60_000_000) }
            try await withVigil(database: database, ruleset: ruleset) { _, port in
                _ = try await send((0..<3).map { line("a-\($0)", account: "acc-a", at: at(Int64($0))) }, port: port)
                _ = try await send((0..<2).map { line("b-\($0)", account: "acc-b", at: at(Int64($0))) }, port: port)
                _ = try await send([line("a-3", account: "acc-a", at: at(3))], port: port)
            }
            // The state a crash could leave: acc-a's row written after its first three
            // transactions only, acc-b's never written, and the replay marker before all six.
            let db = try await PostgresConnection.connect(database)
            try await db.execute(
                """
                UPDATE account_profiles SET txn_count = 3,
                    checkpoint_through = (SELECT max(received_at) FROM transactions WHERE id IN ('a-0', 'a-1', 'a-2'))
                WHERE account_id = 'acc-a'
                """)
            try await db.execute("DELETE FROM account_profiles WHERE account_id = 'acc-b'")
            try await db.execute(
                """
                UPDATE profile_checkpoints SET through = (SELECT min(received_at) - interval '1 microsecond' FROM transactions)
                """)
            try await withVigil(database: database, ruleset: ruleset) { server, _ in
                #expect(await eventually { server.health.readiness.ready })
            }
            // Counted once each (a naive replay from the marker would give acc-a 3 + 4),
            // and the replayed profiles were written back at shutdown.
            #expect(try await db.count("SELECT txn_count FROM account_profiles WHERE account_id = 'acc-a'") == 4)
            #expect(try await db.count("SELECT txn_count FROM account_profiles WHERE account_id = 'acc-b'") == 2)
        }
    }
}
