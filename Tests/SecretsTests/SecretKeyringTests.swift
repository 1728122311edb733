import Foundation
import Secrets
import Testing

@Suite("Secret keys and sealed values (AES-256-GCM)")
struct SecretKeyringTests {
    static func randomKey() throws -> SecretKey {
        try SecretKey(bytes: (0..<32).map { _ in UInt8.random(in: 0...255) })
    }

    @Test func sealedValuesOpenOnlyWithTheirKeyAndPlace() throws {
        let keyring = SecretKeyring(current: try Self.randomKey())
        let sealed = try keyring.seal("whsec_c2VjcmV0LXNlY3JldC1zZWNyZXQtc2VjcmV0", context: "webhook_endpoints.secret")
        #expect(sealed.hasPrefix("v1:\(keyring.current.id):"))
        #expect(!sealed.contains("whsec_") && !sealed.contains("c2VjcmV0"))
        #expect(try keyring.open(sealed, context: "webhook_endpoints.secret") == "whsec_c2VjcmV0LXNlY3JldC1zZWNyZXQtc2VjcmV0")
        // Another place (associated data) or a flipped byte: refused, never garbage.
        #expect(throws: SecretsError.self) { try keyring.open(sealed, context: "other.column") }
        // Flip one bit of each byte in turn (nonce, ciphertext, tag): every change is refused.
        let parts = sealed.split(separator: ":")
        let combined = try #require(Data(base64Encoded: String(parts[2])))
        for index in combined.indices {
            var altered = combined
            altered[index] ^= 0x01
            let tampered = "v1:\(parts[1]):\(altered.base64EncodedString())"
            #expect(throws: SecretsError.self) { try keyring.open(tampered, context: "webhook_endpoints.secret") }
        }
        // Sealing twice gives different values (random nonce).
        #expect(try keyring.seal("x", context: "c") != keyring.seal("x", context: "c"))
    }

    @Test func aPreviousKeyStillOpensDuringRotation() throws {
        let old = try Self.randomKey()
        let new = try Self.randomKey()
        let sealed = try SecretKeyring(current: old).seal("secret", context: "c")
        do {
            _ = try SecretKeyring(current: new).open(sealed, context: "c")
            Issue.record("opened under the wrong key")
        } catch {
            #expect(error.code == .unknownKey)
            #expect(error.message.contains(old.id) && error.message.contains("VIGIL_PREVIOUS_SECRET_KEY"))
        }
        #expect(try SecretKeyring(current: new, others: [old]).open(sealed, context: "c") == "secret")
    }

    @Test func keysLoadFromTheEnvironmentOrAFileAndBadOnesAreNamed() throws {
        #expect(try SecretKeyring.load(environment: [:]) == nil)
        let text = Data((0..<32).map { UInt8($0) }).base64EncodedString()
        let fromEnvironment = try #require(try SecretKeyring.load(environment: ["VIGIL_SECRET_KEY": text]))
        let file = FileManager.default.temporaryDirectory.appendingPathComponent("vigil-key-\(UUID().uuidString)")
        defer { try? FileManager.default.removeItem(at: file) }
        try Data((text + "\n").utf8).write(to: file)
        let fromFile = try #require(try SecretKeyring.load(keyFile: file.path, environment: [:]))
        #expect(fromEnvironment.current.id == fromFile.current.id)
        do {
            _ = try SecretKeyring.load(environment: ["VIGIL_SECRET_KEY": Data([1, 2, 3]).base64EncodedString()])
            Issue.record("a 3-byte key was accepted")
        } catch {
            #expect(error.code == .invalidKey && error.message.contains("VIGIL_SECRET_KEY") && error.message.contains("32"))
        }
        #expect(throws: SecretsError.self) { try SecretKeyring.load(keyFile: "/nonexistent/key", environment: [:]) }
    }
}
