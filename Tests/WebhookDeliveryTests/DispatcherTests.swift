import Foundation
import PostgresStore
import Testing
import VigilTesting

@testable import WebhookDelivery

/// End to end: real PostgreSQL, a real HTTP receiver on a loopback port, the dispatcher.
@Suite("Webhook dispatcher", .serialized)
struct DispatcherTests {
    @Test func deliversASignedAlertThatAnIndependentCheckVerifies() async throws {
        try await Fixture.scenario(receivers: [{ _ in .status(204) }]) { database, db, receivers, urls in
            let endpoint = try await Fixture.addEndpoint(urls[0], on: db)
            let alert = try await Fixture.raiseAlert("tx-1", on: db)
            try await Fixture.withDispatcher(Fixture.configuration(database)) {
                let request = try #require(try await receivers[0].waitForRequests(1).first)
                let id = try #require(request.header("webhook-id"))
                let timestamp = try #require(request.header("webhook-timestamp"))
                #expect(id.hasPrefix("msg_"))
                #expect(abs((Int64(timestamp) ?? 0) - Int64(Date().timeIntervalSince1970)) < 60)
                #expect(
                    request.header("webhook-signature")
                        == independentSignature(secret: Fixture.secret, id: id, timestamp: timestamp, body: request.body))
                #expect(request.header("content-type") == "application/json")
                let object = try #require(try JSONSerialization.jsonObject(with: Data(request.body)) as? [String: Any])
                #expect(object["type"] as? String == "alert.created")
                let data = try #require(object["data"] as? [String: Any])
                #expect(data["alert_id"] as? Int == Int(alert))
                #expect((data["transaction"] as? [String: Any])?["id"] as? String == "tx-1")
                try await waitUntil("delivered") { try await Fixture.message(alert: alert, endpoint: endpoint, on: db).status == "delivered" }
                let attempts = try await Fixture.attempts(endpoint: endpoint, on: db)
                #expect(attempts.count == 1 && attempts.first?.status == 204)
            }
        }
    }

    @Test func aReceiverThatFailsTwiceGetsTheAlertOnTheThirdAttempt() async throws {
        try await Fixture.scenario(receivers: [{ $0 < 2 ? .status(500) : .status(200) }]) { database, db, receivers, urls in
            let endpoint = try await Fixture.addEndpoint(urls[0], on: db)
            let alert = try await Fixture.raiseAlert("tx-1", on: db)
            try await Fixture.withDispatcher(Fixture.configuration(database)) {
                let requests = try await receivers[0].waitForRequests(3)
                try await waitUntil("delivered") { try await Fixture.message(alert: alert, endpoint: endpoint, on: db).status == "delivered" }
                let message = try await Fixture.message(alert: alert, endpoint: endpoint, on: db)
                #expect(message.attempts == 3)
                #expect(Set(requests.compactMap { $0.header("webhook-id") }) == [message.messageID])
                for request in requests {
                    let expected = independentSignature(
                        secret: Fixture.secret, id: message.messageID, timestamp: request.header("webhook-timestamp") ?? "", body: request.body)
                    #expect(request.header("webhook-signature") == expected)
                }
                #expect(try await Fixture.attempts(endpoint: endpoint, on: db).map(\.status) == [500, 500, 200])
                // Delivered: nothing is rescheduled, so the count is final.
                #expect(receivers[0].requests.count == 3)
            }
        }
    }

    @Test func aHangingReceiverDoesNotDelayAHealthyOne() async throws {
        try await Fixture.scenario(receivers: [{ _ in .hang }, { _ in .status(204) }]) { database, db, receivers, urls in
            let hanging = try await Fixture.addEndpoint(urls[0], on: db)
            let healthy = try await Fixture.addEndpoint(urls[1], on: db)
            let configuration = Fixture.configuration(database, requestTimeout: .seconds(30), concurrency: 1)
            try await Fixture.withDispatcher(configuration) {
                var alerts: [Int64] = []
                for n in 0..<3 { alerts.append(try await Fixture.raiseAlert("tx-\(n)", on: db)) }
                _ = try await receivers[0].waitForRequests(1)
                // All three reach the healthy endpoint while the other holds its only slot.
                _ = try await receivers[1].waitForRequests(3, within: .seconds(5))
                for alert in alerts {
                    try await waitUntil("delivered") { try await Fixture.message(alert: alert, endpoint: healthy, on: db).status == "delivered" }
                    #expect(try await Fixture.message(alert: alert, endpoint: hanging, on: db).status == "pending")
                }
                #expect(receivers[0].requests.count == 1)
            }
        }
    }

    @Test func aDispatcherRestartedMidScheduleResumesIt() async throws {
        try await Fixture.scenario(receivers: [{ $0 == 0 ? .status(503) : .status(204) }]) { database, db, receivers, urls in
            let endpoint = try await Fixture.addEndpoint(urls[0], on: db)
            let alert = try await Fixture.raiseAlert("tx-1", on: db)
            let configuration = Fixture.configuration(database, delays: [.zero, .milliseconds(600), .seconds(5)])
            try await Fixture.withDispatcher(configuration) {
                try await waitUntil("first attempt recorded") { try await Fixture.attempts(endpoint: endpoint, on: db).count == 1 }
            }
            #expect(try await Fixture.message(alert: alert, endpoint: endpoint, on: db).status == "pending")
            try await Fixture.withDispatcher(configuration) {
                try await waitUntil("delivered") { try await Fixture.message(alert: alert, endpoint: endpoint, on: db).status == "delivered" }
            }
            let message = try await Fixture.message(alert: alert, endpoint: endpoint, on: db)
            #expect(message.attempts == 2)
            #expect(receivers[0].requests.map { $0.header("webhook-id") } == [message.messageID, message.messageID])
        }
    }

    @Test func aDeliveryInFlightWhenTheDispatcherDiesIsRetriedAfterRestart() async throws {
        try await Fixture.scenario(receivers: [{ $0 == 0 ? .hang : .status(204) }]) { database, db, receivers, urls in
            let endpoint = try await Fixture.addEndpoint(urls[0], on: db)
            let alert = try await Fixture.raiseAlert("tx-1", on: db)
            // The lease (timeout + margin) is what brings an abandoned message back.
            let configuration = Fixture.configuration(database, requestTimeout: .seconds(2), leaseMargin: .zero)
            try await Fixture.withDispatcher(configuration) {
                _ = try await receivers[0].waitForRequests(1)
            }
            #expect(try await Fixture.attempts(endpoint: endpoint, on: db).isEmpty)
            try await Fixture.withDispatcher(configuration) {
                try await waitUntil("delivered") { try await Fixture.message(alert: alert, endpoint: endpoint, on: db).status == "delivered" }
            }
            let requests = receivers[0].requests
            #expect(requests.count == 2)
            #expect(requests[0].header("webhook-id") == requests[1].header("webhook-id"))
        }
    }

    @Test func deadAfterTheLastAttempt() async throws {
        try await Fixture.scenario(receivers: [{ _ in .status(500) }]) { database, db, receivers, urls in
            let endpoint = try await Fixture.addEndpoint(urls[0], on: db)
            let alert = try await Fixture.raiseAlert("tx-1", on: db)
            try await Fixture.withDispatcher(Fixture.configuration(database, delays: [.zero, .milliseconds(20), .milliseconds(20)])) {
                try await waitUntil("dead") { try await Fixture.message(alert: alert, endpoint: endpoint, on: db).status == "dead" }
            }  // the dispatcher has stopped and finished what it had in flight: the count is final
            #expect(receivers[0].requests.count == 3)
            let dead = try await WebhookAdmin.deliveries(filter: .dead, on: db)
            #expect(dead.count == 3 && dead.allSatisfy { $0.error == "HTTP 500" })
        }
    }
}
