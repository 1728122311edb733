import Detection
import FeedGenerator
import Foundation
import PostgresStore
import RuleLanguage
import Testing
import VigilCore
import VigilTesting

@testable import Pipeline

@Suite("Card, device and merchant histories: checkpointed and rebuilt on restart")
struct EntityCheckpointTests {
    @Test("a checkpoint and restart in the middle of a stream give the same card, device and merchant histories")
    func restartGivesSameHistories() async throws {
        let generator = FeedGenerator(configuration: GeneratorConfiguration(count: 6_000, seed: 17, population: .bank))
        let reference = OfflineEvaluation.snapshot(generator.referenceData)
        let records = Array(generator)
        func replay(_ slice: ArraySlice<GeneratedRecord>, into history: SharedHistory) {
            var record = EvaluationRecord(windowCount: 0)
            for r in slice {
                let amount = reference.baseAmount(of: r.transaction.amount)
                Enricher.fillHistory(&record, transaction: r.transaction, amountBase: amount, history: history, update: true)
            }
        }
        let uninterrupted = SharedHistory()
        replay(records[...], into: uninterrupted)
        let firstHalf = SharedHistory()
        replay(records.prefix(3_000), into: firstHalf)
        let saved = firstHalf.all()
        let loaded = try await TestDatabase.withMigrated { database in
            let db = try await PostgresConnection.connect(database)
            try await db.transaction { db in try DetectionStore.saveEntities(saved, through: nil, on: db) }
            let loaded = try await DetectionStore.loadEntities(from: db)
            await db.close()
            return loaded
        }
        let resumed = SharedHistory()
        for stored in loaded { resumed.load(stored.key, stored.stats) }
        #expect(resumed.all() == saved, "a checkpointed history reads back exactly")
        replay(records.dropFirst(3_000), into: resumed)
        let expected = uninterrupted.all()
        #expect(resumed.all() == expected)
        // The feed exercises every kind, and cards shared by accounts.
        for kind in EntityKind.allCases { #expect(expected.keys.contains { $0.kind == kind }) }
        #expect(expected.values.contains { $0.count >= 20 && $0.amountCount > 0 })
    }

    @Test("after a crash, a history written part-way is replayed only with what its row lacks; rejected, duplicate and late records never count")
    func crashBetweenCheckpoints() async throws {
        try await TestDatabase.withMigrated { database in
            let ruleset = try compileRules(["v.rules": velocityRules])
            let start = Timestamp.now().adding(microseconds: -3_000 * 1_000_000)
            @Sendable func at(_ minute: Int64) -> Timestamp { start.adding(microseconds: minute * 60_000_000) }
            try await withVigil(database: database, ruleset: ruleset) { _, port in
                // card-s is shared by two accounts; dev-s by the same two.
                _ = try await send(
                    (0..<3).map { line("a-\($0)", account: "acc-a", at: at(Int64($0)), card: "card-s", device: "dev-s", merchant: "m-1") },
                    port: port)
                _ = try await send(
                    (0..<2).map { line("b-\($0)", account: "acc-b", at: at(Int64(10 + $0)), card: "card-s", device: "dev-s", merchant: "m-2") },
                    port: port)
                // A duplicate, a rejected record and a late one: none may count.
                _ = try await send([line("a-0", account: "acc-a", at: at(0), card: "card-s", device: "dev-s", merchant: "m-1")], port: port)
                _ = try await send([line("bad-1", account: "acc-a", at: at(12), currency: "EURO", card: "card-s", device: "dev-s")], port: port)
                _ = try await send([line("late-1", account: "acc-b", at: at(-60), card: "card-s", device: "dev-s", merchant: "m-2")], port: port)
                _ = try await send([line("a-3", account: "acc-a", at: at(13), card: "card-s", device: "dev-s", merchant: "m-1")], port: port)
            }
            let db = try await PostgresConnection.connect(database)
            #expect(try await db.count("SELECT txn_count FROM entity_history WHERE kind = 'card' AND entity_id = 'card-s'") == 6)
            #expect(try await db.count("SELECT txn_count FROM entity_history WHERE kind = 'merchant' AND entity_id = 'm-2'") == 2)
            // The state a crash could leave: card-s written after acc-a's first three only,
            // dev-s never written, and the replay marker before everything.
            try await db.execute(
                """
                UPDATE entity_history SET txn_count = 3, amount_count = 3,
                    checkpoint_through = (SELECT max(received_at) FROM transactions WHERE id IN ('a-0', 'a-1', 'a-2'))
                WHERE kind = 'card' AND entity_id = 'card-s'
                """)
            try await db.execute("DELETE FROM entity_history WHERE kind = 'device'")
            try await db.execute(
                "UPDATE entity_checkpoints SET through = (SELECT min(received_at) - interval '1 microsecond' FROM transactions)")
            try await withVigil(database: database, ruleset: ruleset) { server, _ in
                #expect(await eventually { server.health.readiness.ready })
            }
            // Counted once each (a naive replay from the marker would give card-s 3 + 6),
            // and the replayed histories were written back at shutdown.
            #expect(try await db.count("SELECT txn_count FROM entity_history WHERE kind = 'card' AND entity_id = 'card-s'") == 6)
            #expect(try await db.count("SELECT txn_count FROM entity_history WHERE kind = 'device' AND entity_id = 'dev-s'") == 6)
            #expect(try await db.count("SELECT txn_count FROM entity_history WHERE kind = 'merchant' AND entity_id = 'm-1'") == 4)
            await db.close()
        }
    }
}
