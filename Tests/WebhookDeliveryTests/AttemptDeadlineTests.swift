import Foundation
import PostgresStore
import Testing
import VigilTesting

@testable import WebhookDelivery

/// The request timeout covers the whole attempt: connect, send, response head and body.
@Suite("Webhook attempt deadline", .serialized)
struct AttemptDeadlineTests {
    @Test("an endpoint that sends its headers and then trickles the body a byte a second times out, is recorded, and is retried")
    func aTricklingBodyTimesOut() async throws {
        try await Fixture.scenario(receivers: [{ $0 == 0 ? .trickle : .status(204) }]) { database, db, receivers, urls in
            let endpoint = try await Fixture.addEndpoint(urls[0], on: db)
            let alert = try await Fixture.raiseAlert("tx-1", on: db)
            let timeout = Duration.seconds(2)
            let configuration = Fixture.configuration(database, delays: [.zero, .milliseconds(100)], requestTimeout: timeout)
            try await Fixture.withDispatcher(configuration) {
                try await waitUntil(within: .seconds(20), "delivered on the retry") {
                    try await Fixture.message(alert: alert, endpoint: endpoint, on: db).status == "delivered"
                }
            }
            let attempts = try await db.query(
                """
                SELECT status_code, error, latency_ms FROM webhook_deliveries WHERE endpoint_id = \(endpoint) ORDER BY id
                """
            ).map { (try $0.decodeIfPresent(0, as: Int.self), try $0.decodeIfPresent(1, as: String.self), try $0.decode(2, as: Int.self)) }
            try #require(attempts.count == 2)
            #expect(attempts[0].0 == nil)
            #expect(attempts[0].1?.hasPrefix("timed out") == true, "\(attempts[0].1 ?? "no error")")
            // Within the timeout plus a little: not the 1,000,000 s the body would take.
            #expect(attempts[0].2 >= 1_900 && attempts[0].2 < 3_500, "timed-out attempt took \(attempts[0].2) ms")
            #expect(attempts[1].0 == 204)
            let requests = receivers[0].requests
            #expect(requests.count == 2)
            #expect(requests[0].header("webhook-id") == requests[1].header("webhook-id"))
            #expect(requests[1].receivedAt - requests[0].receivedAt >= timeout)
        }
    }

    @Test("within: a body that ends first returns its value; one that does not is cancelled at the deadline")
    func withinCancelsAtTheDeadline() async throws {
        #expect(try await EndpointSender.within(.seconds(5)) { 42 } == 42)
        let started = ContinuousClock.now
        await #expect(throws: EndpointSender.AttemptTimedOut.self) {
            try await EndpointSender.within(.milliseconds(200)) {
                try await Task.sleep(for: .seconds(60))
                return 0
            }
        }
        #expect(ContinuousClock.now - started < .seconds(5))
    }
}
