import Foundation
import PostgresStore
import Testing
import VigilTesting

@testable import WebhookDelivery

/// Endpoint-level behaviour: rotation, replay, 410, SSRF, redirects, auto-disable, filters.
@Suite("Webhook endpoints", .serialized)
struct DispatcherEndpointTests {
    @Test func rotationSendsBothSignatures() async throws {
        try await Fixture.scenario(receivers: [{ _ in .status(204) }]) { database, db, receivers, urls in
            let endpoint = try await Fixture.addEndpoint(urls[0], on: db)
            let newSecret = WebhookSecret.generate()
            try await WebhookAdmin.rotateSecret(endpoint, to: newSecret, keyring: Fixture.keyring, grace: .seconds(3600), on: db)
            _ = try await Fixture.raiseAlert("tx-1", on: db)
            try await Fixture.withDispatcher(Fixture.configuration(database)) {
                let request = try #require(try await receivers[0].waitForRequests(1).first)
                let id = request.header("webhook-id") ?? ""
                let timestamp = request.header("webhook-timestamp") ?? ""
                let signatures = (request.header("webhook-signature") ?? "").split(separator: " ").map(String.init)
                #expect(
                    signatures == [
                        independentSignature(secret: newSecret.text, id: id, timestamp: timestamp, body: request.body),
                        independentSignature(secret: Fixture.secret, id: id, timestamp: timestamp, body: request.body),
                    ])
            }
        }
    }

    @Test func replayResendsWithTheSameWebhookID() async throws {
        try await Fixture.scenario(receivers: [{ _ in .status(204) }, { _ in .status(204) }]) { database, db, receivers, urls in
            let first = try await Fixture.addEndpoint(urls[0], on: db)
            let alert = try await Fixture.raiseAlert("tx-1", on: db)
            try await Fixture.withDispatcher(Fixture.configuration(database)) {
                _ = try await receivers[0].waitForRequests(1)
                try await waitUntil("delivered") { try await Fixture.message(alert: alert, endpoint: first, on: db).status == "delivered" }
                #expect(try await WebhookAdmin.replay(alertID: alert, on: db) == 1)
                let requests = try await receivers[0].waitForRequests(2)
                #expect(requests[0].header("webhook-id") == requests[1].header("webhook-id"))
                // An endpoint added later gets the alert on replay with --endpoint.
                let second = try await Fixture.addEndpoint(urls[1], on: db)
                #expect(try await WebhookAdmin.replay(since: .now().adding(microseconds: -3_600_000_000), endpoint: second, on: db) == 1)
                _ = try await receivers[1].waitForRequests(1)
                try await waitUntil("delivered") { try await Fixture.message(alert: alert, endpoint: second, on: db).status == "delivered" }
            }
            await #expect(throws: WebhookError.self) { try await WebhookAdmin.replay(on: db) }
        }
    }

    @Test func goneDisablesTheEndpointAtOnce() async throws {
        try await Fixture.scenario(receivers: [{ _ in .status(410) }]) { database, db, receivers, urls in
            let endpoint = try await Fixture.addEndpoint(urls[0], on: db)
            _ = try await Fixture.raiseAlert("tx-1", on: db)
            try await Fixture.withDispatcher(Fixture.configuration(database)) {
                try await waitUntil("disabled") { try await WebhookAdmin.listEndpoints(on: db).first?.enabled == false }
                _ = try await Fixture.raiseAlert("tx-2", on: db)  // not enqueued: the endpoint is disabled
                try await Task.sleep(for: .milliseconds(400))
            }
            let listed = try #require(try await WebhookAdmin.listEndpoints(on: db).first)
            #expect(listed.disabledReason == "the endpoint answered 410 Gone")
            #expect(listed.pending == 1)  // kept: delivered if the endpoint is enabled again
            #expect(receivers[0].requests.count == 1)
            #expect(try await Fixture.attempts(endpoint: endpoint, on: db).map(\.status) == [410])
        }
    }

    @Test func loopbackDestinationsAreRefusedUnlessAllowed() async throws {
        try await Fixture.scenario(receivers: [{ _ in .status(204) }]) { database, db, receivers, urls in
            let endpoint = try await Fixture.addEndpoint(urls[0], on: db)
            _ = try await Fixture.raiseAlert("tx-1", on: db)
            try await Fixture.withDispatcher(Fixture.configuration(database, destinations: .publicOnly)) {
                try await waitUntil("refused attempt recorded") { try await !Fixture.attempts(endpoint: endpoint, on: db).isEmpty }
            }
            let attempt = try #require(try await Fixture.attempts(endpoint: endpoint, on: db).first)
            #expect(attempt.status == nil)
            #expect(attempt.error?.contains("127.0.0.1 (loopback)") == true)
            #expect(receivers[0].requests.isEmpty)
        }
    }

    @Test func redirectsAreFailuresAndNotFollowed() async throws {
        try await Fixture.scenario(receivers: [{ _ in .status(204) }, { _ in .status(204) }]) { database, db, receivers, urls in
            let redirecting = TestReceiver { _ in .status(307, headers: [("location", urls[1])]) }
            let url = try await redirecting.start()
            defer { Task { await redirecting.stop() } }
            let endpoint = try await Fixture.addEndpoint(url, on: db)
            _ = try await Fixture.raiseAlert("tx-1", on: db)
            try await Fixture.withDispatcher(Fixture.configuration(database, delays: [.zero])) {
                try await waitUntil("attempt recorded") { try await !Fixture.attempts(endpoint: endpoint, on: db).isEmpty }
            }
            #expect(try await Fixture.attempts(endpoint: endpoint, on: db).first?.status == 307)
            #expect(receivers[1].requests.isEmpty)
        }
    }

    @Test func retryAfterOn429IsHonored() async throws {
        try await Fixture.scenario(receivers: [{ $0 == 0 ? .status(429, headers: [("retry-after", "1")]) : .status(204) }]) {
            database, db, receivers, urls in
            _ = try await Fixture.addEndpoint(urls[0], on: db)
            _ = try await Fixture.raiseAlert("tx-1", on: db)
            try await Fixture.withDispatcher(Fixture.configuration(database)) {
                let requests = try await receivers[0].waitForRequests(2)
                #expect(requests[1].receivedAt - requests[0].receivedAt >= .milliseconds(950))
            }
        }
    }

    @Test func anEndpointFailingContinuouslyIsDisabled() async throws {
        try await Fixture.scenario(receivers: [{ _ in .status(500) }]) { database, db, _, urls in
            _ = try await Fixture.addEndpoint(urls[0], on: db)
            _ = try await Fixture.raiseAlert("tx-1", on: db)
            let delays = Array(repeating: Duration.milliseconds(100), count: 30)
            try await Fixture.withDispatcher(Fixture.configuration(database, delays: delays, disableAfter: .milliseconds(500))) {
                try await waitUntil("disabled") { try await WebhookAdmin.listEndpoints(on: db).first?.enabled == false }
            }
            let listed = try #require(try await WebhookAdmin.listEndpoints(on: db).first)
            #expect(listed.disabledReason?.hasPrefix("failing continuously") == true)
            try await WebhookAdmin.setEnabled(listed.id, true, on: db)
            let enabled = try #require(try await WebhookAdmin.listEndpoints(on: db).first)
            #expect(enabled.enabled && enabled.disabledReason == nil && enabled.failingSince == nil)
        }
    }

    @Test func enqueueRespectsMinimumSeverityAndIsIdempotent() async throws {
        try await Fixture.scenario(receivers: []) { _, db, _, _ in
            let all = try await Fixture.addEndpoint("https://hooks.example.com/all", on: db)
            let highOnly = try await Fixture.addEndpoint("https://hooks.example.com/high", minSeverity: "high", on: db)
            let low = try await Fixture.raiseAlert("tx-low", severity: "low", on: db)
            let critical = try await Fixture.raiseAlert("tx-critical", severity: "critical", on: db)
            #expect(try await Fixture.message(alert: low, endpoint: all, on: db).status == "pending")
            await #expect(throws: (any Error).self) { try await Fixture.message(alert: low, endpoint: highOnly, on: db) }
            #expect(try await Fixture.message(alert: critical, endpoint: highOnly, on: db).status == "pending")
            let again = try await db.transaction { db in
                try WebhookOutbox.enqueue(alertID: critical, severity: "critical", body: "{}", on: db)
            }
            #expect(again == 0)
            await #expect(throws: WebhookError.self) { try await Fixture.addEndpoint("ftp://example.com/", on: db) }
        }
    }
}
