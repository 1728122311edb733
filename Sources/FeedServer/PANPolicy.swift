import Crypto
import FeedProtocol

/// What the feed does with a line that carries a primary account number (card number).
public enum PANPolicy: Sendable {
    /// Nack it `pan_not_allowed`; the rejects table keeps the line with the number masked.
    case reject
    /// Replace each number, in the line and so in every field, by a keyed hash
    /// (`tok_` + base64url of the first 16 bytes of HMAC-SHA256 under `key`) before the
    /// line is decoded: the same card always gives the same token, and nothing
    /// downstream (store, logs, webhooks) ever sees the number.
    case tokenize(key: SymmetricKey)

    /// What becomes of one line: unchanged (no PAN, the common case, costs one scan),
    /// refused with its masked bytes, or rewritten with tokens.
    enum Outcome {
        case clean
        case refused(masked: [UInt8], shown: String)
        case tokenized([UInt8])
    }

    func apply(to line: [UInt8]) -> Outcome {
        let found = PANScanner.find(in: line)
        guard !found.isEmpty else { return .clean }
        switch self {
        case .reject:
            let masked = PANScanner.redact(line, found)
            let shown = found.map { String(decoding: masked[$0], as: UTF8.self) }.joined(separator: ", ")
            return .refused(masked: masked, shown: shown)
        case .tokenize(let key):
            return .tokenized(PANScanner.replace(line, found) { Self.token(for: $0, key: key) })
        }
    }

    /// The token of a card number's digits under `key`.
    public static func token(for digits: [UInt8], key: SymmetricKey) -> [UInt8] {
        let mac = HMAC<SHA256>.authenticationCode(for: digits, using: key)
        var token = Array("tok_".utf8)
        token.append(contentsOf: base64URL(Array(mac.prefix(16))))
        return token
    }

    private static let alphabet = Array("ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_".utf8)

    /// Unpadded base64url (RFC 4648 §5).
    static func base64URL(_ bytes: [UInt8]) -> [UInt8] {
        var out: [UInt8] = []
        var index = 0
        while index < bytes.count {
            let chunk = bytes[index..<min(index + 3, bytes.count)]
            var value = 0
            for byte in chunk { value = value << 8 | Int(byte) }
            value <<= (3 - chunk.count) * 8
            for position in 0...chunk.count { out.append(alphabet[(value >> (18 - 6 * position)) & 63]) }
            index += 3
        }
        return out
    }
}
