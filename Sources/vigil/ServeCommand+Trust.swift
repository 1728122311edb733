import FeedServer
import Foundation
import Pipeline
import PostgresStore
import Secrets
import WebhookDelivery

/// The trust-boundary options of `vigil serve`: feed TLS, the card-number policy and the
/// secret key (see docs/security.md).
struct TrustOptions {
    var tlsCert: String?
    var tlsKey: String?
    var tlsClientCA: String?
    var panPolicy: String?
    var secretKeyFile: String?
    var previousSecretKeyFile: String?

    /// Flag, then environment, then config file.
    private static func pick(_ flag: String?, _ env: String, _ key: String, _ settings: Settings) -> String? {
        if let flag { return flag }
        if let text = ProcessInfo.processInfo.environment[env], !text.isEmpty { return text }
        return settings.values[key]
    }

    /// The secret keyring (nil when no key is configured).
    func keyring(settings: Settings, command: String) throws -> SecretKeyring? {
        do {
            return try SecretKeyring.load(
                keyFile: Self.pick(secretKeyFile, "VIGIL_SECRET_KEY_FILE", "secret-key-file", settings),
                previousKeyFile: Self.pick(previousSecretKeyFile, "VIGIL_PREVIOUS_SECRET_KEY_FILE", "previous-secret-key-file", settings)
            )
        } catch {
            throw CleanExit.failure("vigil \(command): \(error.message)")
        }
    }

    /// Sets the feed's TLS and card-number policy; refuses unusable combinations at once.
    func apply(to configuration: inout ServeConfiguration, keyring: SecretKeyring?, settings: Settings) throws {
        let cert = Self.pick(tlsCert, "VIGIL_TLS_CERT", "tls-cert", settings)
        let key = Self.pick(tlsKey, "VIGIL_TLS_KEY", "tls-key", settings)
        let clientCA = Self.pick(tlsClientCA, "VIGIL_TLS_CLIENT_CA", "tls-client-ca", settings)
        switch (cert, key) {
        case (let cert?, let key?):
            let tls = FeedTLSConfiguration(certificatePath: cert, privateKeyPath: key, clientCAPath: clientCA)
            do {
                _ = try tls.makeContext()  // fail now, with the file named, not in a restart loop
            } catch {
                throw CleanExit.failure("vigil serve: \(error.message)")
            }
            configuration.feed.tls = tls
        case (nil, nil):
            if clientCA != nil {
                throw CleanExit.failure("vigil serve: --tls-client-ca needs --tls-cert and --tls-key (the server's own certificate)")
            }
        default:
            throw CleanExit.failure("vigil serve: give --tls-cert and --tls-key together (PEM certificate chain and its private key)")
        }
        switch Self.pick(panPolicy, "VIGIL_PAN_POLICY", "pan-policy", settings) ?? "reject" {
        case "reject":
            configuration.feed.panPolicy = .reject
        case "tokenize":
            guard let keyring else {
                throw CleanExit.failure("vigil serve: " + SecretsError.noKey(for: "--pan-policy tokenize").message)
            }
            configuration.feed.panPolicy = .tokenize(key: keyring.current.tokenKey)
        case let other:
            throw CleanExit.failure("vigil serve: --pan-policy is reject (the default: nack pan_not_allowed) or tokenize, not \(other)")
        }
    }

    /// Refuses to start while a webhook secret is still stored in plaintext (from before
    /// migration 0010). Skipped when PostgreSQL is not reachable yet (serve waits for it;
    /// the dispatcher then refuses to sign with a plaintext secret, with the same advice).
    static func refusePlaintextSecrets(database: PostgresConfiguration) async throws {
        let count: Int
        do {
            count = try await PostgresConnection.withConnection(database) { try await WebhookAdmin.plaintextSecretCount(on: $0) }
        } catch {
            return
        }
        guard count == 0 else {
            throw CleanExit.failure(
                "vigil serve: \(count) webhook endpoint(s) still have their signing secret in plaintext; "
                    + "run 'vigil secrets encrypt-existing' (with VIGIL_SECRET_KEY or --secret-key-file) before starting")
        }
    }
}
