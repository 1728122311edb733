import Foundation
import PostgresStore
import Testing
import VigilTesting

#if canImport(Glibc)
import Glibc
#endif

extension FaultToleranceTests {
    /// An endpoint that sends its headers and then a byte a second used to hold its
    /// delivery slots forever (the 15 s timeout ended at the response head) and made
    /// shutdown wait for the webhooks stage's 20 s stop limit. Now the attempt times out
    /// 15 s after it started, is recorded and is retried on the schedule (5 s ± 20 %), and
    /// a SIGTERM while deliveries trickle exits once they time out: within 15 s.
    @Test(
        "8. a webhook endpoint that trickles its body: the attempt times out, is recorded and retried; shutdown stays within the request timeout",
        .timeLimit(.minutes(2)))
    func webhookEndpointThatTricklesItsBody() async throws {
        let endpoint = try await WebhookEndpoint.start(mode: .trickle)
        try await ScratchDatabase.with("trickle") { database in
            let feed = try await GeneratedFeed.make(count: 400, seed: 29, fraudRate: 40, into: database)
            try await VigilProcess.run(
                ["webhooks", "add", "http://127.0.0.1:\(endpoint.port)/hook", "--secret", makeWebhookSecret()],
                database: database, in: database.folder)
            let server = try await ServeProcess.start(database: database, name: "serve", extra: ["--webhook-allow-loopback"])
            defer { Task { await server.stop() } }
            _ = try await FeedStreaming.untilAllAcked(feed.lines, ids: feed.ids, port: server.feedPort, timeout: .seconds(60))
            #expect(try await database.count("SELECT count(*) FROM alerts") > 0)
            #expect(await eventually(timeout: .seconds(10)) { endpoint.trickled > 0 }, "the endpoint should be trickling a body")

            // The first attempts end as timeouts after the request timeout, and are recorded.
            let timedOut: PostgresQuery = "SELECT count(*) FROM webhook_deliveries WHERE error LIKE 'timed out%'"
            #expect(await eventually(timeout: .seconds(25), poll: .milliseconds(200)) { ((try? await database.count(timedOut)) ?? 0) > 0 })
            let latencies = try await database.strings("SELECT latency_ms::text FROM webhook_deliveries WHERE error LIKE 'timed out%'")
                .compactMap { Int($0) }
            #expect(!latencies.isEmpty && latencies.allSatisfy { $0 >= 14_500 && $0 < 18_000 }, "attempt latencies (ms): \(latencies)")
            // ... and go back to the schedule like any failure (retried 5 s later, behind the
            // messages not tried yet; the dispatcher tests watch such a retry succeed).
            #expect(
                try await database.count(
                    """
                    SELECT count(*) FROM webhook_outbox WHERE status = 'pending' AND attempts >= 1 AND last_error LIKE 'timed out%'
                    """) > 0)

            // The freed slots take the next messages, which trickle in turn.
            let firstRequests = endpoint.received.count
            #expect(await eventually(timeout: .seconds(15), poll: .milliseconds(100)) { endpoint.received.count > firstRequests })
            let trickledBefore = endpoint.trickled
            _ = await eventually(timeout: .seconds(5)) { endpoint.trickled > trickledBefore }

            // SIGTERM while those trickle: the process exits once they time out.
            let recordedBefore = try await database.count(timedOut)
            let stopping = ContinuousClock.now
            server.child.kill(SIGTERM)
            let status = await server.child.waitForExit(timeout: .seconds(40))
            let took = ContinuousClock.now - stopping
            print("webhook trickle: attempt latencies \(latencies) ms; SIGTERM to exit \(took)")
            #expect(status == 0, "\(server.logTail)")
            #expect(took < .seconds(18), "shutdown took \(took); in-flight deliveries must end within the 15 s request timeout")
            #expect(try await database.count(timedOut) > recordedBefore, "the attempts cut short by their deadline at shutdown are recorded too")
        }
        await endpoint.close()
    }
}
