/// Why a key could not be loaded or a secret sealed or opened; the message says what to do.
public struct SecretsError: Error, Sendable, CustomStringConvertible {
    /// What went wrong.
    public enum Code: String, Sendable {
        /// No key is configured (`VIGIL_SECRET_KEY`, `--secret-key-file`).
        case noKey = "no_secret_key"
        /// The key text or file is not 32 bytes (base64).
        case invalidKey = "invalid_secret_key"
        /// The sealed value was made under a key the keyring does not hold.
        case unknownKey = "unknown_secret_key"
        /// The sealed value is malformed or fails authentication (tampered, wrong key).
        case corrupt = "sealed_secret_corrupt"
    }

    /// What went wrong.
    public var code: Code
    /// A sentence naming what was wrong, where, and what to do.
    public var message: String

    /// Creates an error.
    public init(code: Code, message: String) {
        self.code = code
        self.message = message
    }

    public var description: String { message }

    /// The error for an operation that needs a key when none is configured.
    public static func noKey(for action: String) -> SecretsError {
        SecretsError(
            code: .noKey,
            message: "\(action) needs the secret key, and none is configured: set VIGIL_SECRET_KEY to base64 of 32 random bytes "
                + "(e.g. `openssl rand -base64 32`) or give --secret-key-file FILE; keep the key outside the database (see docs/security.md)")
    }
}
