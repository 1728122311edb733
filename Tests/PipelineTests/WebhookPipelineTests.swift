import FeedServer
import Foundation
import Pipeline
import PostgresStore
import Secrets
import ServiceLifecycle
import Supervision
import Synchronization
import Testing
import VigilCore
import VigilTesting
import WebhookDelivery

@Suite("Alerts reach webhook consumers through the transactional outbox")
struct WebhookPipelineTests {
    @Test("every alert commits with its outbox rows and is delivered, signed, to the endpoint")
    func alertToWebhook() async throws {
        try await TestDatabase.withMigrated { database in
            let secret = WebhookSecret.generate()
            let received = Mutex<[WebhookReceiver.Delivery]>([])
            let listening = Promise<Int>()
            let receiver = WebhookReceiver(
                port: 0, verifier: WebhookVerifier(secrets: [secret]),
                onListening: { port in listening.complete(port) },
                onDelivery: { delivery in received.withLock { $0.append(delivery) } })
            let receiverGroup = ServiceGroup(configuration: .init(services: [receiver], logger: .init(label: "receiver")))
            try await withThrowingTaskGroup(of: Void.self) { tasks in
                tasks.addTask { try await receiverGroup.run() }
                let port = try #require(await listening.wait(timeout: .seconds(20)))
                let admin = try await PostgresConnection.connect(database)
                let keyring = SecretKeyring(current: try SecretKey(bytes: (0..<32).map { _ in UInt8.random(in: 0...255) }))
                let endpoint = try await WebhookAdmin.addEndpoint(url: "http://127.0.0.1:\(port)/hook", secret: secret, keyring: keyring, on: admin)

                let ruleset = try compileRules(["v.rules": velocityRules])
                try await withVigil(database: database, ruleset: ruleset, configure: { $0.enableWebhooks(allowLoopback: true, keyring: keyring) }) {
                    _, feedPort in
                    let start = Timestamp.now().adding(microseconds: -3_000 * 1_000_000)
                    let lines = (0..<7).map { i in
                        line("w-\(i)", account: "acc-w", at: start.adding(microseconds: Int64(i) * 60_000_000))
                    }
                    _ = try await send(lines, port: feedPort)
                    // Alerts on w-4, w-5, w-6; each with exactly one outbox row for the endpoint.
                    #expect(try await admin.count("SELECT count(*) FROM alerts") == 3)
                    #expect(
                        try await admin.count(
                            """
                            SELECT count(*) FROM alerts a JOIN webhook_outbox o ON o.alert_id = a.id AND o.endpoint_id = \(endpoint)
                            """) == 3)
                    #expect(
                        try await admin.count(
                            "SELECT count(*) FROM alerts a WHERE NOT EXISTS (SELECT 1 FROM webhook_outbox o WHERE o.alert_id = a.id)") == 0)
                    #expect(await eventually { received.withLock { $0.filter { $0.rejection == nil }.count } >= 3 })
                }
                let deliveries = received.withLock { $0 }.filter { $0.rejection == nil }
                #expect(Set(deliveries.compactMap(\.messageID)).count == 3)
                let bodies = deliveries.map { String(decoding: $0.body, as: UTF8.self) }
                #expect(bodies.allSatisfy { $0.contains("\"type\":\"alert.created\"") || $0.contains("\"type\": \"alert.created\"") })
                #expect(bodies.contains { $0.contains("w-4") })
                #expect(try await admin.count("SELECT count(*) FROM webhook_outbox WHERE status = 'delivered'") == 3)
                await receiverGroup.triggerGracefulShutdown()
                try await tasks.waitForAll()
            }
        }
    }
}
