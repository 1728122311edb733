import Crypto
import Foundation

/// Verifies a received webhook as a Standard Webhooks consumer library does: the
/// timestamp within a tolerance, then any one `v1` signature matching, compared in
/// constant time.
public struct WebhookVerifier: Sendable {
    /// The secrets accepted (a consumer in the middle of a rotation may hold two).
    public var secrets: [WebhookSecret]
    /// How far `webhook-timestamp` may be from now, either way (the libraries use 5 minutes).
    public var tolerance: Duration

    /// Creates a verifier.
    public init(secrets: [WebhookSecret], tolerance: Duration = .seconds(300)) {
        self.secrets = secrets
        self.tolerance = tolerance
    }

    /// Throws ``WebhookError/Code/invalidSignature`` unless the headers verify the body.
    public func verify(messageID: String?, timestamp: String?, signatures: String?, body: [UInt8], now: Int64) throws {
        guard let messageID, !messageID.isEmpty, let timestamp, let signatures else {
            throw WebhookError(code: .invalidSignature, message: "missing webhook-id, webhook-timestamp or webhook-signature header")
        }
        guard let seconds = Int64(timestamp) else {
            throw WebhookError(code: .invalidSignature, message: "webhook-timestamp is not whole seconds")
        }
        let skew = seconds > now ? seconds - now : now - seconds
        guard skew <= tolerance.components.seconds else {
            throw WebhookError(
                code: .invalidSignature, message: "webhook-timestamp is \(skew) s from now (tolerance \(tolerance.components.seconds) s)")
        }
        let offered = signatures.split(separator: " ").compactMap { part -> Data? in
            guard part.hasPrefix("v1,") else { return nil }
            return Data(base64Encoded: String(part.dropFirst(3)))
        }
        for secret in secrets {
            let expected = Data(WebhookSigner.signature(secret: secret, messageID: messageID, timestamp: seconds, body: body).utf8.dropFirst(3))
            guard let expectedMAC = Data(base64Encoded: expected) else { continue }
            for candidate in offered where Self.constantTimeEqual(candidate, expectedMAC) {
                return
            }
        }
        throw WebhookError(code: .invalidSignature, message: "no v1 signature matches")
    }

    static func constantTimeEqual(_ a: Data, _ b: Data) -> Bool {
        guard a.count == b.count else { return false }
        var difference: UInt8 = 0
        for (x, y) in zip(a, b) { difference |= x ^ y }
        return difference == 0
    }
}
