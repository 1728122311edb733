import Crypto
import Foundation
import Testing

@testable import WebhookDelivery

/// The test's own HMAC, written from the specification, independent of WebhookSigner.
func independentSignature(secret: String, id: String, timestamp: String, body: [UInt8]) -> String {
    let key = Data(base64Encoded: String(secret.dropFirst("whsec_".count))) ?? Data()
    var signed = Array("\(id).\(timestamp).".utf8)
    signed += body
    let mac = HMAC<SHA256>.authenticationCode(for: signed, using: SymmetricKey(data: key))
    return "v1," + Data(mac).base64EncodedString()
}

@Suite("Standard Webhooks signatures")
struct SignatureTests {
    static let vectorSecret = "whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw"
    static let vectorID = "msg_p5jXN8AQM9LWM0D4loKWxJek"
    static let vectorBody = Array(#"{"test": 2432232314}"#.utf8)
    static let vectorSignature = "v1,g0hM9SsE+OTPJTGt/tmIKtSyZlE3uFJELVlNIOLJ1OE="

    @Test func reproducesTheSpecificationTestVector() throws {
        let secret = try WebhookSecret(Self.vectorSecret)
        let signature = WebhookSigner.signature(secret: secret, messageID: Self.vectorID, timestamp: 1_614_265_330, body: Self.vectorBody)
        #expect(signature == Self.vectorSignature)
        #expect(
            independentSignature(secret: Self.vectorSecret, id: Self.vectorID, timestamp: "1614265330", body: Self.vectorBody) == Self.vectorSignature
        )
    }

    @Test func verifierAcceptsTheVectorAndRejectsTampering() throws {
        let verifier = WebhookVerifier(secrets: [try WebhookSecret(Self.vectorSecret)])
        try verifier.verify(
            messageID: Self.vectorID, timestamp: "1614265330", signatures: "v1,bm9wZQ== " + Self.vectorSignature, body: Self.vectorBody,
            now: 1_614_265_330)
        #expect(throws: WebhookError.self) {
            try verifier.verify(
                messageID: Self.vectorID, timestamp: "1614265330", signatures: Self.vectorSignature, body: Array(#"{"test": 2432232315}"#.utf8),
                now: 1_614_265_330)
        }
        #expect(throws: WebhookError.self) {
            try verifier.verify(
                messageID: "msg_other", timestamp: "1614265330", signatures: Self.vectorSignature, body: Self.vectorBody, now: 1_614_265_330)
        }
        // Outside the five-minute tolerance: a replayed request is refused.
        #expect(throws: WebhookError.self) {
            try verifier.verify(
                messageID: Self.vectorID, timestamp: "1614265330", signatures: Self.vectorSignature, body: Self.vectorBody, now: 1_614_265_330 + 301)
        }
    }

    @Test func rotationSignsWithBothSecretsSpaceSeparated() throws {
        let new = WebhookSecret.generate()
        let old = try WebhookSecret(Self.vectorSecret)
        let header = WebhookSigner.signatureHeader(secrets: [new, old], messageID: Self.vectorID, timestamp: 1_614_265_330, body: Self.vectorBody)
        let parts = header.split(separator: " ").map(String.init)
        #expect(parts.count == 2)
        #expect(parts[1] == Self.vectorSignature)
        #expect(parts[0] == independentSignature(secret: new.text, id: Self.vectorID, timestamp: "1614265330", body: Self.vectorBody))
    }

    @Test func secretsParseGenerateAndStayOutOfDescriptions() throws {
        let generated = WebhookSecret.generate()
        #expect(generated.text.hasPrefix("whsec_"))
        #expect(generated.key.count == 32)
        #expect(try WebhookSecret(generated.text) == generated)
        #expect(!"\(generated)".contains(String(generated.text.dropFirst(6))))
        #expect(throws: WebhookError.self) { try WebhookSecret("MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw") }
        #expect(throws: WebhookError.self) { try WebhookSecret("whsec_c2hvcnQ=") }  // "short": under 24 bytes
        #expect(throws: WebhookError.self) { try WebhookSecret("whsec_not base64!") }
    }
}
