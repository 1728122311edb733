import Crypto
import Foundation
import VigilCore

/// An API token's secret text and its digest, the only part stored.
///
/// `vgl_` + 32 random bytes in base64url (no padding): 256 bits of entropy, so a plain
/// SHA-256 digest is enough to store it (no salt or slow hash: a guess costs as much as
/// guessing the token itself).
public struct APIToken: Sendable {
    /// The prefix every token starts with (lets scanners recognise a leaked one).
    public static let prefix = "vgl_"

    /// The token, shown once.
    public let text: String

    /// Wraps a token's text (as sent in `Authorization: Bearer`).
    public init(text: String) { self.text = text }

    /// A new token from the system's secure random generator.
    public static func generate() -> APIToken {
        var generator = SystemRandomNumberGenerator()
        let bytes = (0..<32).map { _ in UInt8.random(in: .min ... .max, using: &generator) }
        return APIToken(text: prefix + base64URL(bytes))
    }

    /// The SHA-256 digest of the text, lower-case hex: what `api_tokens.digest` holds.
    public var digest: String { Self.digest(of: text) }

    /// The SHA-256 digest of `text`, lower-case hex.
    public static func digest(of text: String) -> String {
        SHA256.hash(data: Data(text.utf8)).map { byte in
            let hex = String(byte, radix: 16)
            return byte < 16 ? "0" + hex : hex
        }.joined()
    }

    /// Compares two digests in time that depends only on their length, so a response time
    /// never tells how many leading characters matched.
    public static func digestsEqual(_ a: String, _ b: String) -> Bool {
        let x = Array(a.utf8)
        let y = Array(b.utf8)
        guard x.count == y.count else { return false }
        var difference: UInt8 = 0
        for i in x.indices { difference |= x[i] ^ y[i] }
        return difference == 0
    }

    private static func base64URL(_ bytes: [UInt8]) -> String {
        Data(bytes).base64EncodedString()
            .replacingOccurrences(of: "+", with: "-")
            .replacingOccurrences(of: "/", with: "_")
            .replacingOccurrences(of: "=", with: "")
    }
}
