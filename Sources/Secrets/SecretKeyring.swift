import Crypto
import Foundation

/// The keys a process holds: the current one seals, any of them opens (a previous key
/// stays configured while `vigil secrets rotate-key` re-seals, so nothing stops).
///
/// A sealed value is text, `v1:<key id>:<base64 of nonce ‖ ciphertext ‖ tag>`, AES-256-GCM
/// with the column it belongs to as associated data: a value copied into another column
/// does not open.
public struct SecretKeyring: Sendable {
    /// The key new values are sealed under.
    public let current: SecretKey
    /// More keys that may open values (previous keys during a rotation).
    public let others: [SecretKey]

    /// Creates a keyring.
    public init(current: SecretKey, others: [SecretKey] = []) {
        self.current = current
        self.others = others.filter { $0.id != current.id }
    }

    /// The keyring from `VIGIL_SECRET_KEY` or `keyFile` (the file wins), with
    /// `VIGIL_PREVIOUS_SECRET_KEY` or `previousKeyFile` as a second key; nil when no key is configured.
    public static func load(
        keyFile: String? = nil, previousKeyFile: String? = nil,
        environment: [String: String] = ProcessInfo.processInfo.environment
    ) throws(SecretsError) -> SecretKeyring? {
        let current: SecretKey
        if let keyFile {
            current = try SecretKey(file: keyFile)
        } else if let text = environment["VIGIL_SECRET_KEY"], !text.isEmpty {
            current = try SecretKey(base64: text, source: "VIGIL_SECRET_KEY")
        } else {
            return nil
        }
        var others: [SecretKey] = []
        if let previousKeyFile {
            others.append(try SecretKey(file: previousKeyFile))
        } else if let text = environment["VIGIL_PREVIOUS_SECRET_KEY"], !text.isEmpty {
            others.append(try SecretKey(base64: text, source: "VIGIL_PREVIOUS_SECRET_KEY"))
        }
        return SecretKeyring(current: current, others: others)
    }

    /// Seals `plaintext` for the place named by `context` (e.g. `webhook_endpoints.secret`).
    public func seal(_ plaintext: String, context: String) throws(SecretsError) -> String {
        do {
            let box = try AES.GCM.seal(Data(plaintext.utf8), using: current.sealingKey, authenticating: Data(context.utf8))
            guard let combined = box.combined else {
                throw SecretsError(code: .corrupt, message: "AES-GCM produced no combined form (unexpected nonce size)")
            }
            return "v1:\(current.id):\(combined.base64EncodedString())"
        } catch let error as SecretsError {
            throw error
        } catch {
            throw SecretsError(code: .corrupt, message: "cannot seal a secret for \(context): \(error)")
        }
    }

    /// Opens a value sealed for `context` by ``seal(_:context:)`` under any key held.
    public func open(_ sealed: String, context: String) throws(SecretsError) -> String {
        let parts = sealed.split(separator: ":", maxSplits: 2, omittingEmptySubsequences: false)
        guard parts.count == 3, parts[0] == "v1", let data = Data(base64Encoded: String(parts[2])) else {
            throw SecretsError(code: .corrupt, message: "the sealed value in \(context) is not v1:<key id>:<base64>; re-add the secret")
        }
        let keyID = String(parts[1])
        guard let key = ([current] + others).first(where: { $0.id == keyID }) else {
            throw SecretsError(
                code: .unknownKey,
                message: "the value in \(context) is sealed under key \(keyID), and the configured key is \(current.id)"
                    + (others.isEmpty ? "" : " (previous: \(others.map(\.id).joined(separator: ", ")))")
                    + "; configure that key (VIGIL_SECRET_KEY, or VIGIL_PREVIOUS_SECRET_KEY during a rotation)")
        }
        do {
            let box = try AES.GCM.SealedBox(combined: data)
            let plain = try AES.GCM.open(box, using: key.sealingKey, authenticating: Data(context.utf8))
            return String(decoding: plain, as: UTF8.self)
        } catch {
            throw SecretsError(
                code: .corrupt,
                message:
                    "the sealed value in \(context) fails authentication under key \(keyID): it was altered or belongs elsewhere; re-add the secret")
        }
    }

    /// Whether `value` is in the sealed form (not a plaintext secret).
    public static func isSealed(_ value: String) -> Bool { value.hasPrefix("v1:") }
}
