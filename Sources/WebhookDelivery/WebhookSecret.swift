import Foundation

/// An endpoint's signing secret in the Standard Webhooks form `whsec_<base64>`.
///
/// `description` is redacted so a secret never reaches a log line by accident; only
/// ``text`` (shown once by `vigil webhooks add` and `rotate-secret`) reveals it.
public struct WebhookSecret: Sendable, Hashable, CustomStringConvertible {
    /// The smallest key accepted, in bytes (the issue asks for at least 24 random bytes).
    public static let minimumKeyLength = 24
    /// The prefix every secret carries.
    public static let prefix = "whsec_"

    /// The decoded key bytes that HMAC-SHA256 uses.
    public let key: [UInt8]
    /// The full `whsec_<base64>` text.
    public let text: String

    /// Parses `whsec_<base64>`; the prefix is required so a secret is recognisable in configuration.
    public init(_ text: String) throws {
        let trimmed = text.trimmingCharacters(in: .whitespacesAndNewlines)
        guard trimmed.hasPrefix(Self.prefix) else {
            throw WebhookError(
                code: .invalidSecret, message: "a webhook secret starts with \(Self.prefix) followed by base64; omit --secret to generate one")
        }
        let encoded = String(trimmed.dropFirst(Self.prefix.count))
        guard let data = Data(base64Encoded: encoded), data.count >= Self.minimumKeyLength else {
            throw WebhookError(
                code: .invalidSecret,
                message: "a webhook secret is \(Self.prefix) followed by standard base64 of at least \(Self.minimumKeyLength) bytes")
        }
        self.key = Array(data)
        self.text = trimmed
    }

    /// Wraps raw key bytes (at least ``minimumKeyLength`` of them).
    public init(key: [UInt8]) throws {
        guard key.count >= Self.minimumKeyLength else {
            throw WebhookError(code: .invalidSecret, message: "a webhook key has at least \(Self.minimumKeyLength) bytes")
        }
        self.key = key
        self.text = Self.prefix + Data(key).base64EncodedString()
    }

    /// A new secret of 32 bytes from the system's cryptographic random generator.
    public static func generate() -> WebhookSecret {
        var generator = SystemRandomNumberGenerator()
        let key = (0..<32).map { _ in UInt8.random(in: .min ... .max, using: &generator) }
        // 32 >= minimumKeyLength, so the checked initializer cannot fail; keep a fallback anyway.
        return (try? WebhookSecret(key: key)) ?? WebhookSecret(unchecked: key)
    }

    private init(unchecked key: [UInt8]) {
        self.key = key
        self.text = Self.prefix + Data(key).base64EncodedString()
    }

    /// Redacted: `whsec_…` and the key length, never the key.
    public var description: String { "\(Self.prefix)…(\(key.count) bytes)" }
}
