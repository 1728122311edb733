import Crypto
import Foundation

/// The operator's 32-byte master key. Vigil never uses it directly: each purpose gets
/// its own key derived with HKDF, so a token never helps to attack a sealed secret.
public struct SecretKey: Sendable {
    /// The key that seals stored credentials (AES-256-GCM).
    let sealingKey: SymmetricKey
    /// The key of the keyed hash that replaces card numbers (`--pan-policy tokenize`).
    public let tokenKey: SymmetricKey
    /// A short public fingerprint (16 hex digits) stored beside each sealed value, so
    /// the right key is picked and a wrong one is named instead of failing obscurely.
    public let id: String

    /// Creates a key from its 32 bytes.
    public init(bytes: some ContiguousBytes, source: String = "the key") throws(SecretsError) {
        let key = SymmetricKey(data: bytes)
        guard key.bitCount == 256 else {
            throw SecretsError(
                code: .invalidKey,
                message:
                    "\(source) is \(key.bitCount / 8) bytes; the secret key is exactly 32 random bytes, base64-encoded (`openssl rand -base64 32`)")
        }
        sealingKey = Self.derive(key, "vigil secrets at rest v1")
        tokenKey = Self.derive(key, "vigil pan tokens v1")
        let fingerprint = HKDF<SHA256>.deriveKey(inputKeyMaterial: key, info: Data("vigil key id v1".utf8), outputByteCount: 8)
        id = fingerprint.withUnsafeBytes { $0.map { String(format: "%02x", $0) }.joined() }
    }

    /// Creates a key from base64 text (surrounding whitespace ignored).
    public init(base64 text: String, source: String) throws(SecretsError) {
        let trimmed = text.trimmingCharacters(in: .whitespacesAndNewlines)
        guard let data = Data(base64Encoded: trimmed) else {
            throw SecretsError(
                code: .invalidKey, message: "\(source) is not base64; the secret key is 32 random bytes, base64-encoded (`openssl rand -base64 32`)")
        }
        try self.init(bytes: data, source: source)
    }

    /// Reads a key file: base64 text of 32 bytes.
    public init(file path: String) throws(SecretsError) {
        guard let data = FileManager.default.contents(atPath: path) else {
            throw SecretsError(code: .invalidKey, message: "cannot read the secret key file \(path); check the path and that this user may read it")
        }
        try self.init(base64: String(decoding: data, as: UTF8.self), source: "the secret key file \(path)")
    }

    /// One key per purpose, derived once.
    private static func derive(_ master: SymmetricKey, _ purpose: String) -> SymmetricKey {
        HKDF<SHA256>.deriveKey(inputKeyMaterial: master, info: Data(purpose.utf8), outputByteCount: 32)
    }
}
