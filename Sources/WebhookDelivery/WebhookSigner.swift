import Crypto
import Foundation

/// Signs requests as the Standard Webhooks specification says: `v1,` + base64 of
/// HMAC-SHA256 over `"<webhook-id>.<webhook-timestamp>.<body>"` with the decoded secret.
public enum WebhookSigner {
    /// One `v1,<base64>` signature.
    public static func signature(secret: WebhookSecret, messageID: String, timestamp: Int64, body: some DataProtocol) -> String {
        var content = Data()
        content.append(contentsOf: Array(messageID.utf8))
        content.append(UInt8(ascii: "."))
        content.append(contentsOf: Array(String(timestamp).utf8))
        content.append(UInt8(ascii: "."))
        content.append(contentsOf: body)
        let mac = HMAC<SHA256>.authenticationCode(for: content, using: SymmetricKey(data: secret.key))
        return "v1," + Data(mac).base64EncodedString()
    }

    /// The `webhook-signature` header value: one signature per secret, space-separated
    /// (during a rotation the new and the previous secret both sign).
    public static func signatureHeader(secrets: [WebhookSecret], messageID: String, timestamp: Int64, body: some DataProtocol) -> String {
        secrets.map { signature(secret: $0, messageID: messageID, timestamp: timestamp, body: body) }
            .joined(separator: " ")
    }

    /// The three Standard Webhooks headers for one attempt.
    public static func headers(secrets: [WebhookSecret], messageID: String, timestamp: Int64, body: some DataProtocol) -> [(
        name: String, value: String
    )] {
        [
            ("webhook-id", messageID),
            ("webhook-timestamp", String(timestamp)),
            ("webhook-signature", signatureHeader(secrets: secrets, messageID: messageID, timestamp: timestamp, body: body)),
        ]
    }
}
