import Backtest
import Detection
import FeedServer
import ISO8583
import PostgresStore
import Secrets
import Synchronization
import Testing
import VigilCore
import VigilTesting

@testable import Pipeline

@Suite("ISO 8583 reversals in the card, device and merchant histories, real PostgreSQL")
struct ReversalHistoryTests {
    static let rules = """
        rule reversed_card {
          description "a card with a reversed transaction"
          require card_id
          when card.reversals >= 1
          severity high
          score 70
          reason "card {card_id}: {card.reversals} reversed"
        }
        rule twice_reversed_card {
          description "a card with two reversed transactions"
          require card_id
          when card.reversals >= 2
          severity high
          score 80
          reason "card {card_id}: {card.reversals} reversed"
        }
        """

    @Test(
        "a 0400 makes the card's next transaction read card.reversals 1; a repeat, a 0420 of the same original and a reversal stored before its original do not count; a restart and a backtest see the same"
    )
    func reversalsReachRules() async throws {
        try await TestDatabase.withMigrated { database in
            let packager = try iso87Packager()
            let key = try SecretKey(bytes: [UInt8](repeating: 7, count: 32))
            let time = transmissionTime()
            let pan = "4111111111111111"
            @Sendable func txID(_ stan: String) -> String { "8583:\(time):TERM0001:\(stan):612345\(stan)" }
            @Sendable func reversal(_ mti: String, stan: String, of original: String) -> ISO8583Message {
                isoRequest(
                    mti, stan: stan, time: time, extra: [37: "612345\(original)", 90: "0200" + original + time + "00000000000" + "00000000000"])
            }
            let live = Mutex<[EntityKey: Int64]>([:])
            try await withISO8583Vigil(database: database, panPolicy: .tokenize(key: key.tokenKey), rules: Self.rules) { server, port in
                try await FeedClient.withConnection(host: "127.0.0.1", port: port, iso8583: packager) { connection in
                    let first = isoRequest("0200", stan: "000401", time: time, extra: [2: pan])
                    #expect(try await exchange(connection, first, packager)?.text(39) == "00")
                    let reversed = try await exchange(connection, reversal("0400", stan: "000402", of: "000401"), packager)
                    #expect(reversed?.mtiText == "0410")
                    #expect(reversed?.text(39) == "00")
                    // The same reversal again, and an advice reversing the same original: stored, not counted again.
                    #expect(try await exchange(connection, reversal("0400", stan: "000402", of: "000401"), packager)?.text(39) == "00")
                    #expect(try await exchange(connection, reversal("0420", stan: "000403", of: "000401"), packager)?.mtiText == "0430")
                    // Reversed before it was stored: never counts, even once it is.
                    #expect(try await exchange(connection, reversal("0400", stan: "000404", of: "000406"), packager)?.mtiText == "0410")
                    for stan in ["000406", "000407"] {
                        let request = isoRequest("0200", stan: stan, time: time, extra: [2: pan])
                        let answer = try await exchange(connection, request, packager)
                        #expect(answer?.text(39) == "00")
                    }
                }
                let db = try await PostgresConnection.connect(database)
                let card = try await db.query("SELECT card_id FROM transactions WHERE id = \(txID("000401"))").first?.decode(0, as: String.self)
                #expect(card?.hasPrefix("tok_") == true)
                #expect(try await db.count("SELECT count(*) FROM reversals") == 3)
                #expect(try await db.count("SELECT count(*) FROM reversals WHERE counted AND original_id = \(txID("000401"))") == 1)
                let history = server.detection.history
                if let card { #expect(history.stats(EntityKey(.card, card))?.reversals == 1) }
                #expect(history.stats(EntityKey(.merchant, "MERCHANT0000001"))?.reversals == 1)
                live.withLock { $0 = history.all().filter { $0.value.reversals > 0 }.mapValues(\.reversals) }
                await db.close()
            }
            let db = try await PostgresConnection.connect(database)
            let hits = try await db.query("SELECT transaction_id, rule_id FROM rule_hits ORDER BY 1, 2").map {
                BacktestReport.Hit(transaction: try $0.decode(0), rule: try $0.decode(1))
            }
            // Before the reversal nothing; after it, one reversed transaction on the card.
            #expect(hits == [.init(transaction: txID("000406"), rule: "reversed_card"), .init(transaction: txID("000407"), rule: "reversed_card")])
            let counted = live.withLock { $0 }
            #expect(counted.count == 2, "the card and the merchant: \(counted)")

            // A restart counts the same reversals from their rows, and its next transaction reads them.
            try await withISO8583Vigil(database: database, panPolicy: .tokenize(key: key.tokenKey), rules: Self.rules) { server, port in
                try await waitUntil("the restarted server is ready") { server.health.readiness.ready }
                let rebuilt = server.detection.history.all().filter { $0.value.reversals > 0 }.mapValues(\.reversals)
                #expect(rebuilt == counted)
                try await FeedClient.withConnection(host: "127.0.0.1", port: port, iso8583: packager) { connection in
                    let next = isoRequest("0200", stan: "000408", time: time, extra: [2: pan])
                    let answer = try await exchange(connection, next, packager)
                    #expect(answer?.text(39) == "00")
                }
            }
            #expect(try await db.count("SELECT count(*) FROM rule_hits WHERE transaction_id = \(txID("000408")) AND rule_id = 'reversed_card'") == 1)
            #expect(try await db.count("SELECT count(*) FROM rule_hits WHERE rule_id = 'twice_reversed_card'") == 0)

            // A backtest counts each reversal from the first transaction received after it: the live hits exactly.
            let report = try await Backtest.run(
                candidate: try compileRules(["r.rules": Self.rules]), baseline: .live, options: BacktestOptions(keepHits: true), database: database)
            let stored = try await db.query("SELECT transaction_id, rule_id FROM rule_hits").map {
                BacktestReport.Hit(transaction: try $0.decode(0), rule: try $0.decode(1))
            }
            #expect(Set(report.hits ?? []) == Set(stored))
            #expect(stored.count == 3)
            await db.close()
        }
    }

    @Test("a warm standby that takes over holds the reversal counts its leader held")
    func standbyTakesOverReversals() async throws {
        try await TestDatabase.withMigrated { database in
            let packager = try iso87Packager()
            let time = transmissionTime()
            let ruleset = try compileRules(["r.rules": Self.rules])
            let merchant = EntityKey(.merchant, "MERCHANT0000001")
            @Sendable func configure(_ name: String) -> (inout ServeConfiguration) -> Void {
                { configuration in
                    WarmStandbyTests.ha(name)(&configuration)
                    var listener = configuration.feed
                    listener.port = 0
                    listener.wire = .iso8583(ISO8583Wire(packager: packager))
                    listener.metricsPrefix = "vigil_iso8583"
                    configuration.iso8583 = listener
                }
            }
            let (leaderHeld, atTakeover) = try await withVigil(database: database, ruleset: ruleset, configure: configure("rev-a")) { a, _ in
                let leaderA = try #require(a.leadership)
                try await waitUntil(within: .seconds(10), "node a to take the lease") { leaderA.isLeader }
                let portA = try #require(await a.iso8583?.boundAddress()?.port)
                return try await withVigil(database: database, ruleset: ruleset, configure: configure("rev-b")) { b, _ in
                    let standby = try #require(b.leadership)
                    try await waitUntil(within: .seconds(30), "node b to load its state as a standby") {
                        b.bootstrap.tail.progress.withLock { $0.loaded }
                    }
                    // Reversed while b stands by: b learns of it at its takeover.
                    try await FeedClient.withConnection(host: "127.0.0.1", port: portA, iso8583: packager) { connection in
                        let first = isoRequest("0200", stan: "000501", time: time)
                        let answer = try await exchange(connection, first, packager)
                        #expect(answer?.text(39) == "00")
                        let original = "0200" + "000501" + time + "00000000000" + "00000000000"
                        let reversal = isoRequest("0400", stan: "000502", time: time, extra: [37: "612345000501", 90: original])
                        #expect(try await exchange(connection, reversal, packager)?.mtiText == "0410")
                    }
                    let leaderHeld = a.detection.history.all().filter { $0.value.reversals > 0 }.mapValues(\.reversals)
                    try await PostgresConnection.withConnection(database) { db in
                        _ = try await db.execute("UPDATE leader_lease SET expires_at = '-infinity'")
                    }
                    try await waitUntil(within: .seconds(10), "node b to take over") { standby.isLeader }
                    try await waitUntil(within: .seconds(20), "node b to be ready") { b.health.readiness.ready }
                    let atTakeover = b.detection.history.all().filter { $0.value.reversals > 0 }.mapValues(\.reversals)
                    return (leaderHeld, atTakeover)
                }
            }
            #expect(leaderHeld == [merchant: 1])
            #expect(atTakeover == leaderHeld)
        }
    }
}

extension ReversalHistoryTests {
    /// Two `--ha` nodes with an ISO 8583 listener each, on one database.
    static func haISO(_ node: String, packager: ISO8583Packager) -> (inout ServeConfiguration) -> Void {
        { configuration in
            configuration.highAvailability = HighAvailability(lease: .seconds(2), node: node, feedAddress: "\(node).example:7400")
            configuration.feed.drainTimeout = .seconds(1)
            var listener = configuration.feed
            listener.port = 0
            listener.wire = .iso8583(ISO8583Wire(packager: packager))
            listener.metricsPrefix = "vigil_iso8583"
            configuration.iso8583 = listener
        }
    }

    @Test(
        "a leader that lost its lease stores no reversal: a 0400 already on its connection is answered 91 (retry elsewhere), not stored, not counted; the new leader stores it"
    )
    func fencedReversal() async throws {
        try await TestDatabase.withMigrated { database in
            let packager = try iso87Packager()
            let time = transmissionTime()
            let ruleset = try compileRules(["r.rules": noRules])
            let reversal = isoRequest(
                "0400", stan: "000502", time: time, extra: [37: "612345000501", 90: "0200" + "000501" + time + "00000000000" + "00000000000"])
            @Sendable func storedReversals() async throws -> Int {
                try await PostgresConnection.withConnection(database) { try await $0.count("SELECT count(*)::int FROM reversals") }
            }
            try await withVigil(database: database, ruleset: ruleset, configure: Self.haISO("node-a", packager: packager)) { a, _ in
                let leaderA = try #require(a.leadership)
                try await waitUntil(within: .seconds(10), "node a to take the lease") { leaderA.isLeader }
                let portA = try #require(await a.iso8583?.boundAddress()?.port)
                try await withVigil(database: database, ruleset: ruleset, configure: Self.haISO("node-b", packager: packager)) { b, _ in
                    let standby = try #require(b.leadership)
                    try await waitUntil(within: .seconds(10), "node b to see node a lead") { standby.role == .standby(leader: "node-a.example:7400") }
                    try await FeedClient.withConnection(host: "127.0.0.1", port: portA, iso8583: packager) { stale in
                        #expect(try await exchange(stale, isoRequest("0200", stan: "000501", time: time), packager)?.text(39) == "00")
                        // The lease ends now, as if node a had stopped renewing it; b takes over.
                        try await PostgresConnection.withConnection(database) { db in
                            _ = try await db.execute("UPDATE leader_lease SET expires_at = '-infinity'")
                        }
                        try await waitUntil(within: .seconds(10), "node b to take over") { standby.isLeader }
                        try await waitUntil(within: .seconds(10), "node a to see it lost the lease") {
                            if case .lost = leaderA.role { true } else { false }
                        }
                        // Node a's reversal writer is refused by the fencing check in its transaction.
                        let answer = try await exchange(stale, reversal, packager)
                        #expect(answer?.mtiText == "0410")
                        #expect(answer?.text(39) == "91", "a node that does not lead answers 91, not \(answer?.text(39) ?? "nothing")")
                    }
                    #expect(try await storedReversals() == 0, "a fenced reversal must not commit")
                    #expect(a.detection.history.stats(EntityKey(.merchant, "MERCHANT0000001"))?.reversals ?? 0 == 0)
                    // The acquirer sends it again to the new leader: stored and counted there.
                    let portB = try #require(await b.iso8583?.boundAddress()?.port)
                    try await FeedClient.withConnection(host: "127.0.0.1", port: portB, iso8583: packager) { connection in
                        let answer = try await exchange(connection, reversal, packager)
                        #expect(answer?.mtiText == "0410" && answer?.text(39) == "00")
                    }
                    #expect(try await storedReversals() == 1)
                    #expect(b.detection.history.stats(EntityKey(.merchant, "MERCHANT0000001"))?.reversals == 1)
                }
            }
        }
    }
}
