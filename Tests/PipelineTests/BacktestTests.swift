import Backtest
import Cases
import FeedGenerator
import FeedProtocol
import FeedServer
import Foundation
import PostgresStore
import RuleLanguage
import Testing
import VigilCore
import VigilTesting

/// The backtest's promise: replaying a period through ruleset R reports exactly the hits
/// a live run of R produced over the same transactions, with windows, profiles, lists
/// and reference data as each transaction saw them (a list edit and an FX change land in
/// the middle of the period here).
@Suite("Backtest", .serialized)
struct BacktestTests {
    static let rulesPath = TestDatabase.repositoryRoot.appendingPathComponent("Rules").path

    /// Sends `records` on four connections (each account's on one, in order, as senders
    /// partition), concurrently, and waits for every ack: the connections progress at
    /// their own pace, so arrival order is not event-time order across accounts.
    static func sendSplit(_ records: [Transaction], port: Int) async throws -> Int {
        var payloads = [[UInt8]](repeating: [], count: 4)
        var counts = [Int](repeating: 0, count: 4)
        for tx in records {
            let connection = Int(tx.accountID.utf8.reduce(UInt64(0)) { $0 &* 31 &+ UInt64($1) } % 4)
            FeedEncoder.append(tx, to: &payloads[connection])
            counts[connection] += 1
        }
        let streams = Array(zip(payloads, counts))
        return try await withThrowingTaskGroup(of: Int.self) { group in
            for (payload, expected) in streams where expected > 0 {
                group.addTask {
                    try await FeedClient.withConnection(host: "127.0.0.1", port: port) { connection in
                        let writer = connection.writer
                        let sender = Task { try await writer.send(bytes: payload) }
                        var acks = 0
                        while acks < expected, let reply = try await connection.nextReply() {
                            if case .ack = reply { acks += 1 }
                        }
                        try await sender.value
                        return acks
                    }
                }
            }
            return try await group.reduce(0, +)
        }
    }

    /// A live run of the repository's rules over a generated feed, with a reference change
    /// between its halves; returns the database and the first event time of the second half.
    static func liveRun(_ body: @Sendable (PostgresConfiguration, CompiledRuleset, Timestamp, [String]) async throws -> Void) async throws {
        let loaded = RulesetLoader.load(paths: [rulesPath])
        let ruleset = try #require(loaded.ruleset)
        let generator = FeedGenerator(configuration: GeneratorConfiguration(count: 12_000, seed: 11))
        let records = generator.map(\.transaction).sorted { ($0.timestamp, $0.id) < ($1.timestamp, $1.id) }
        let half = records.count / 2
        let second = Array(records[half...])
        // The merchants the second half pays most: blocked between the halves.
        let blocked = Dictionary(grouping: second.compactMap(\.merchantID), by: { $0 }).sorted { ($0.value.count, $0.key) > ($1.value.count, $1.key) }
            .prefix(3).map(\.key)
        try await TestDatabase.withMigrated { database in
            let db = try await PostgresConnection.connect(database)
            try await ReferenceSeeder.seed(generator.referenceData, into: db)
            // Four connections at their own pace (arrival is not event-time order) and one
            // worker: windows keyed by card or device then see exactly the order the
            // replay uses (see docs/backtest.md on several workers).
            try await withVigil(database: database, ruleset: ruleset, configure: { $0.detectionWorkers = 1 }) { server, port in
                #expect(await eventually { server.health.readiness.ready })
                #expect(try await sendSplit(Array(records[..<half]), port: port) == half)
                // The FX change first: the reload that shows the last list entry read it too.
                try await db.execute("UPDATE fx_rates SET rate = rate * 1.25 WHERE currency = 'USD'")
                try await db.execute("INSERT INTO lists (name) VALUES ('blocked_merchants') ON CONFLICT DO NOTHING")
                for merchant in blocked {
                    try await db.execute("INSERT INTO list_entries (list_name, value) VALUES ('blocked_merchants', \(merchant))")
                }
                #expect(
                    await eventually {
                        let lists = server.detection.reference.snapshot.lists["blocked_merchants"] ?? []
                        return blocked.allSatisfy(lists.contains)
                    })
                #expect(try await sendSplit(second, port: port) == second.count)
            }
            await db.close()
            try await body(database, ruleset, second[0].timestamp, blocked)
        }
    }

    static func liveHits(_ database: PostgresConfiguration, since: Timestamp? = nil) async throws -> Set<BacktestReport.Hit> {
        try await PostgresConnection.withConnection(database) { db in
            var hits: Set<BacktestReport.Hit> = []
            let rows = try await db.query(
                """
                SELECT h.transaction_id, h.rule_id FROM rule_hits h JOIN transactions t ON t.id = h.transaction_id
                WHERE t.event_time >= \(since ?? Timestamp(microsecondsSinceEpoch: 0))
                """)
            for row in rows { hits.insert(.init(transaction: try row.decode(0), rule: try row.decode(1))) }
            return hits
        }
    }

    @Test("backtesting the live rules reproduces the live hits exactly, whole period and from the middle with a warm-up")
    func exactness() async throws {
        try await Self.liveRun { database, ruleset, middle, blocked in
            let live = try await Self.liveHits(database)
            #expect(live.count > 100)
            // The list edit mattered: the blocked merchants were hit only after it.
            #expect(live.contains { $0.rule == "blocked_merchant" })

            let whole = try await Backtest.run(
                candidate: ruleset, baseline: .live, options: BacktestOptions(keepHits: true), database: database)
            let replayed = Set(whole.hits ?? [])
            #expect(
                replayed.symmetricDifference(live).isEmpty,
                "only in the backtest: \(Array(replayed.subtracting(live).prefix(5))); only live: \(Array(live.subtracting(replayed).prefix(5)))")
            #expect(whole.rules.allSatisfy { $0.added == 0 && $0.removed == 0 })
            #expect(whole.alertsAdded == 0 && whole.alertsRemoved == 0)
            #expect(whole.referenceChanges >= blocked.count + 1)
            // The same rules as a baseline ruleset: a second lane on its own thread, fed the
            // same chunks (twelve of them here), with reference changes of its own, agrees
            // row for row.
            let itself = try await Backtest.run(
                candidate: ruleset, baseline: .ruleset(ruleset), options: BacktestOptions(keepHits: true), database: database)
            #expect(Set(itself.hits ?? []) == replayed && itself.alerts == whole.alerts && itself.baselineAlerts == whole.alerts)
            #expect(itself.rules.allSatisfy { $0.added == 0 && $0.removed == 0 && $0.hits == $0.baselineHits })
            #expect(itself.referenceChanges == whole.referenceChanges)

            let tail = try await Backtest.run(
                candidate: ruleset, baseline: .live, options: BacktestOptions(from: middle, keepHits: true), database: database)
            #expect(tail.warmupTransactions > 0 && tail.warmupTransactions + tail.transactions == whole.transactions)
            #expect(Set(tail.hits ?? []).symmetricDifference(try await Self.liveHits(database, since: middle)).isEmpty)
            #expect(tail.alertsAdded == 0 && tail.alertsRemoved == 0)

            // Investigators' dispositions: the first alerted case confirmed fraud, the second
            // a false positive. The live rules catch exactly what they alerted on; a ruleset
            // that alerts on nothing misses every labeled fraud.
            let labeled = try await PostgresConnection.withConnection(database) { db in
                let cases = try await db.query("SELECT id FROM cases ORDER BY id LIMIT 2").map { try $0.decode(0, as: Int64.self) }
                #expect(cases.count == 2)
                _ = try await CaseStore.apply(.close(.fraud, reason: nil), toCase: cases[0], by: "alice", on: db)
                _ = try await CaseStore.apply(.close(.legitimate, reason: "known customer"), toCase: cases[1], by: "bob", on: db)
                return (
                    fraud: try await db.count("SELECT count(DISTINCT transaction_id) FROM dispositions WHERE disposition = 'fraud'"),
                    legitimate: try await db.count("SELECT count(DISTINCT transaction_id) FROM dispositions WHERE disposition = 'legitimate'")
                )
            }
            let judged = try await Backtest.run(candidate: ruleset, baseline: .live, options: BacktestOptions(), database: database)
            #expect(judged.labeledFraud == labeled.fraud && judged.labeledLegitimate == labeled.legitimate && labeled.fraud > 0)
            #expect(judged.candidateLabels == .init(fraudCaught: labeled.fraud, fraudMissed: 0, falsePositivesRaised: labeled.legitimate))
            #expect(judged.baselineLabels == judged.candidateLabels)
            #expect(judged.rules.reduce(0) { $0 + $1.fraudHits } >= labeled.fraud)
            let silent = try compileRules([
                "none.rules": "rule never {\n  when amount_base < 0.00\n  severity low\n  score 1\n  reason \"never\"\n}\n"
            ])
            let blindToAll = try await Backtest.run(candidate: silent, baseline: .live, options: BacktestOptions(), database: database)
            #expect(blindToAll.candidateLabels == .init(fraudCaught: 0, fraudMissed: labeled.fraud, falsePositivesRaised: 0))
            #expect(blindToAll.baselineLabels.fraudCaught == labeled.fraud)

            // Without the history, the list edit would be applied from the start (or not
            // at all): the replay would differ. Proven by emptying the history.
            try await PostgresConnection.withConnection(database) { db in try await db.execute("DELETE FROM reference_history") }
            let blind = try await Backtest.run(
                candidate: ruleset, baseline: .live, options: BacktestOptions(keepHits: true), database: database)
            #expect(!Set(blind.hits ?? []).symmetricDifference(live).isEmpty)
        }
    }

    @Test("a changed threshold is reported as alerts added against the live run and against the old rules; nothing is written")
    func comparison() async throws {
        try await Self.liveRun { database, ruleset, _, _ in
            let folder = FileManager.default.temporaryDirectory.appendingPathComponent("vigil-candidate-\(UUID().uuidString)")
            try FileManager.default.copyItem(atPath: Self.rulesPath, toPath: folder.path)
            defer { try? FileManager.default.removeItem(at: folder) }
            let velocity = folder.appendingPathComponent("velocity.rules")
            let text = try String(contentsOf: velocity, encoding: .utf8)
            let looser = text.replacingOccurrences(of: "window.small_cnp_per_card_30m >= 4", with: "window.small_cnp_per_card_30m >= 2")
            #expect(looser != text)
            try looser.write(to: velocity, atomically: true, encoding: .utf8)
            let candidate = try #require(RulesetLoader.load(paths: [folder.path]).ruleset)

            let before = try await Self.tableCounts(database)
            let vsLive = try await Backtest.run(candidate: candidate, baseline: .live, options: BacktestOptions(), database: database)
            let vsRules = try await Backtest.run(candidate: candidate, baseline: .ruleset(ruleset), options: BacktestOptions(), database: database)
            #expect(try await Self.tableCounts(database) == before)

            let testing = try #require(vsLive.rules.first { $0.rule == "card_testing" })
            #expect(testing.added > 0 && testing.removed == 0)
            #expect(vsLive.rules.filter { $0.rule != "card_testing" }.allSatisfy { $0.added == 0 && $0.removed == 0 })
            #expect(vsLive.rules == vsRules.rules)
            #expect(vsLive.alertsAdded == vsRules.alertsAdded && vsLive.alertsAdded > 0)
            #expect(vsRules.baseline == ruleset.version && vsLive.baseline == "live")
        }
    }

    @Test(
        "a stored row the replay cannot read, deep in a multi-chunk period, stops the backtest with an error naming it: one lane and two, none left waiting",
        .timeLimit(.minutes(1)))
    func unreadableRowStopsEveryStage() async throws {
        try await TestDatabase.withMigrated { database in
            let ruleset = try #require(RulesetLoader.load(paths: [Self.rulesPath]).ruleset)
            try await PostgresConnection.withConnection(database) { db in
                // 5,000 rows (five chunks) in arrival order; the 3,000th has a currency no code knows.
                try await db.execute(
                    """
                    INSERT INTO transactions (id, account_id, amount_minor, currency, channel, event_time, received_at, raw)
                    SELECT 'bt-' || g, 'acc-' || (g % 50), 1000 + g, CASE WHEN g = 3000 THEN 'ZZZ' ELSE 'EUR' END, 'card_not_present',
                           t, t, '{}'::jsonb
                    FROM generate_series(1, 5000) g, LATERAL (SELECT timestamptz '2026-11-01' + g * interval '1 second' AS t) x
                    """)
            }
            for baseline in [BacktestBaseline.live, .ruleset(ruleset)] {
                do {
                    _ = try await Backtest.run(candidate: ruleset, baseline: baseline, options: BacktestOptions(), database: database)
                    Issue.record("a backtest over an unreadable row reported a result")
                } catch let error as BacktestError {
                    #expect("\(error)".contains("bt-3000") && "\(error)".contains("ZZZ"), "\(error)")
                }
            }
        }
    }

    @Test("an empty period replays nothing and says so; a reversed period is refused")
    func periods() async throws {
        try await TestDatabase.withMigrated { database in
            let ruleset = try #require(RulesetLoader.load(paths: [Self.rulesPath]).ruleset)
            let empty = try await Backtest.run(candidate: ruleset, baseline: .live, options: BacktestOptions(), database: database)
            #expect(empty.transactions == 0 && empty.warmupTransactions == 0)
            let t = Timestamp(secondsSinceEpoch: 1_800_000_000)
            await #expect(throws: BacktestError.self) {
                try await Backtest.run(candidate: ruleset, baseline: .live, options: BacktestOptions(from: t, to: t), database: database)
            }
        }
    }

    static func tableCounts(_ database: PostgresConfiguration) async throws -> [Int] {
        try await PostgresConnection.withConnection(database) { db in
            var counts: [Int] = []
            for query: PostgresQuery in [
                "SELECT count(*) FROM transactions", "SELECT count(*) FROM rule_hits", "SELECT count(*) FROM alerts",
                "SELECT count(*) FROM account_profiles", "SELECT count(*) FROM reference_history",
            ] {
                counts.append(try await db.count(query))
            }
            return counts
        }
    }
}
