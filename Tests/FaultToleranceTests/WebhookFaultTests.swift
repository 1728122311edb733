import FeedServer
import Foundation
import Testing

#if canImport(Glibc)
import Glibc
import VigilTesting
#endif

extension FaultToleranceTests {
    /// `vigil serve` has no option for the retry schedule, so this runs on the standard
    /// one (immediately, then 5 s ± 20 %, then 5 min): the endpoint hangs while the feed
    /// flows, then answers 500 to everything for under 4 s, then recovers; every message
    /// then arrives on its next attempt, under the same webhook-id it first had.
    @Test(
        "6. a webhook endpoint that hangs, then fails with 500: feed acks keep flowing, deliveries resume on recovery",
        .timeLimit(.minutes(3)))
    func webhookEndpointHangsThenFails() async throws {
        let endpoint = try await WebhookEndpoint.start(mode: .hang)
        try await ScratchDatabase.with("hook") { database in
            let count = 4_000
            let feed = try await GeneratedFeed.make(count: count, seed: 23, fraudRate: 30, into: database)
            try await VigilProcess.run(
                ["webhooks", "add", "http://127.0.0.1:\(endpoint.port)/hook", "--secret", makeWebhookSecret()],
                database: database, in: database.folder)
            let server = try await ServeProcess.start(database: database, name: "serve", extra: ["--webhook-allow-loopback"])
            defer { Task { await server.stop() } }

            // Hanging endpoint: the feed is acked in full regardless.
            let started = ContinuousClock.now
            let seen = try await FeedStreaming.untilAllAcked(feed.lines, ids: feed.ids, port: server.feedPort, timeout: .seconds(60))
            let feedTook = ContinuousClock.now - started
            #expect(seen.count == count)
            #expect(
                await eventually(timeout: .seconds(10), poll: .milliseconds(50)) { endpoint.held > 0 },
                "the dispatcher should be stuck on the endpoint")
            let alerts = try await database.count("SELECT count(*) FROM alerts")
            #expect(alerts > 10)
            #expect(try await database.count("SELECT count(*) FROM webhook_outbox WHERE status = 'pending'") >= alerts - endpoint.held)
            // Throughput: the same feed size again, still hanging, takes about as long.
            let more = (0..<count).map { validLine("more-\($0)", account: "acc-more-\($0 % 50)") }
            let again = ContinuousClock.now
            _ = try await FeedStreaming.untilAllAcked(more, ids: more.indices.map { "more-\($0)" }, port: server.feedPort, timeout: .seconds(60))
            let moreTook = ContinuousClock.now - again
            #expect(moreTook < max(feedTook * 3, .seconds(10)), "feed with a hung endpoint: \(moreTook) vs \(feedTook) before")

            // 500 for everything (held requests included), briefly; then recovery.
            let failedFrom = ContinuousClock.now
            endpoint.set(.fail)
            _ = await eventually(timeout: .seconds(2), poll: .milliseconds(50)) {
                (try? await database.count("SELECT count(*) FROM webhook_outbox WHERE status = 'pending' AND attempts = 0")) == 0
            }
            let failed = Set(endpoint.received.filter { $0.answered == 500 }.map { $0.id })
            endpoint.set(.ok)
            let failPhase = ContinuousClock.now - failedFrom
            #expect(!failed.isEmpty)

            let delivered = await eventually(timeout: .seconds(60), poll: .milliseconds(200)) {
                (try? await database.count("SELECT count(*) FROM webhook_outbox WHERE status <> 'delivered'")) == 0
            }
            let undelivered = try await database.strings(
                "SELECT status || ' ' || attempts || ' ' || coalesce(last_error, '') FROM webhook_outbox WHERE status <> 'delivered' LIMIT 5")
            #expect(delivered, "outbox: \(undelivered); the 500 phase lasted \(failPhase)")
            let ok = Set(endpoint.received.filter { $0.answered == 200 }.map { $0.id })
            let messageIDs = Set(try await database.strings("SELECT message_id FROM webhook_outbox"))
            #expect(ok == messageIDs, "each message delivered under its stable webhook-id")
            #expect(failed.isSubset(of: ok), "a message that failed is retried under the same webhook-id")
            #expect(try await database.count("SELECT count(*) FROM webhook_outbox WHERE attempts >= 2") >= failed.count)
            server.child.kill(SIGTERM)
            #expect(await server.child.waitForExit(timeout: .seconds(40)) == 0)
        }
        await endpoint.close()
    }
}
