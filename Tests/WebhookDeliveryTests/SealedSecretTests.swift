import Foundation
import PostgresStore
import Secrets
import Testing
import VigilTesting

@testable import WebhookDelivery

/// Signing secrets at rest: sealed under the operator's key, never readable from the database alone.
@Suite("Webhook secrets sealed at rest", .serialized)
struct SealedSecretTests {
    /// Every text column of `webhook_endpoints`, as a dump would show them.
    private func everyText(on db: PostgresConnection) async throws -> String {
        try await db.query("SELECT row_to_json(e)::text FROM webhook_endpoints e").map { try $0.decode(0, as: String.self) }.joined(separator: "\n")
    }

    @Test func addingWithoutAKeyIsRefusedAndNothingIsStoredInClear() async throws {
        try await Fixture.scenario(receivers: []) { _, db, _, _ in
            do {
                _ = try await WebhookAdmin.addEndpoint(
                    url: "https://hooks.example.com/x", secret: try WebhookSecret(Fixture.secret), keyring: nil, on: db)
                Issue.record("a secret was stored without a key")
            } catch let error as WebhookError {
                #expect(error.code == .secretKey && error.message.contains("VIGIL_SECRET_KEY") && error.message.contains("--secret-key-file"))
            }
            let rotated = WebhookSecret.generate()
            let id = try await Fixture.addEndpoint("https://hooks.example.com/y", on: db)
            try await WebhookAdmin.rotateSecret(id, to: rotated, keyring: Fixture.keyring, grace: .seconds(60), on: db)
            let dump = try await everyText(on: db)
            for secret in [Fixture.secret, rotated.text] {
                #expect(!dump.contains(secret) && !dump.contains(String(secret.dropFirst(6))))
            }
            #expect(dump.contains("v1:\(Fixture.keyring.current.id):"))
        }
    }

    @Test func rotatingTheKeyKeepsDeliveriesSignedWithTheSameSecret() async throws {
        try await Fixture.scenario(receivers: [{ _ in .status(204) }]) { database, db, receivers, urls in
            let endpoint = try await Fixture.addEndpoint(urls[0], on: db)
            let before = try await everyText(on: db)
            let newKey = try SecretKey(bytes: (0..<32).map { _ in UInt8.random(in: 0...255) })
            #expect(try await WebhookAdmin.rotateKey(from: Fixture.keyring, to: newKey, on: db) == 1)
            let after = try await everyText(on: db)
            #expect(after != before && after.contains("v1:\(newKey.id):") && !after.contains(Fixture.keyring.current.id))
            let alert = try await Fixture.raiseAlert("tx-rotated", on: db)
            // A dispatcher that has only the old key cannot open the secret: refused, retried.
            // With the new key (the old one as previous, as during a rolling restart), it delivers.
            let configuration = Fixture.configuration(database, keyring: SecretKeyring(current: newKey, others: [Fixture.keyring.current]))
            let request = try await Fixture.withDispatcher(configuration) {
                try await waitUntil("delivered") { try await Fixture.message(alert: alert, endpoint: endpoint, on: db).status == "delivered" }
                return try await receivers[0].waitForRequests(1)[0]
            }
            let id = request.header("webhook-id") ?? ""
            let timestamp = request.header("webhook-timestamp") ?? ""
            #expect(
                request.header("webhook-signature") == independentSignature(secret: Fixture.secret, id: id, timestamp: timestamp, body: request.body))
        }
    }

    @Test func aWrongKeyIsRefusedByNameAndRotationIsAllOrNothing() async throws {
        try await Fixture.scenario(receivers: [{ _ in .status(204) }]) { database, db, receivers, urls in
            let endpoint = try await Fixture.addEndpoint(urls[0], on: db)
            let stranger = SecretKeyring(current: try SecretKey(bytes: [UInt8](repeating: 9, count: 32)))
            let before = try await everyText(on: db)
            await #expect(throws: WebhookError.self) {
                try await WebhookAdmin.rotateKey(from: stranger, to: try SecretKey(bytes: [UInt8](repeating: 8, count: 32)), on: db)
            }
            #expect(try await everyText(on: db) == before)
            _ = try await Fixture.raiseAlert("tx-wrong-key", on: db)
            let configuration = Fixture.configuration(database, keyring: stranger)
            try await Fixture.withDispatcher(configuration) {
                try await waitUntil("refused attempt recorded") { !(try await Fixture.attempts(endpoint: endpoint, on: db)).isEmpty }
            }
            let attempt = try #require(try await Fixture.attempts(endpoint: endpoint, on: db).first)
            #expect(attempt.status == nil && (attempt.error ?? "").contains(Fixture.keyring.current.id))
            #expect(receivers[0].requests.isEmpty)
        }
    }

    @Test func plaintextSecretsFromBeforeTheMigrationAreSealedByEncryptExisting() async throws {
        try await Fixture.scenario(receivers: [{ _ in .status(204) }]) { database, db, receivers, urls in
            try await db.execute("INSERT INTO webhook_endpoints (url, secret) VALUES (\(urls[0]), \(Fixture.secret))")
            #expect(try await WebhookAdmin.plaintextSecretCount(on: db) == 1)
            #expect(try await WebhookAdmin.encryptExisting(keyring: Fixture.keyring, on: db) == 1)
            #expect(try await WebhookAdmin.plaintextSecretCount(on: db) == 0)
            #expect(!(try await everyText(on: db)).contains(Fixture.secret))
            _ = try await Fixture.raiseAlert("tx-legacy", on: db)
            let configuration = Fixture.configuration(database)
            let request = try await Fixture.withDispatcher(configuration) {
                try await receivers[0].waitForRequests(1)[0]
            }
            let id = request.header("webhook-id") ?? ""
            let timestamp = request.header("webhook-timestamp") ?? ""
            #expect(
                request.header("webhook-signature") == independentSignature(secret: Fixture.secret, id: id, timestamp: timestamp, body: request.body))
        }
    }
}
