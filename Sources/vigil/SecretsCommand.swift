import ArgumentParser
import Foundation
import Secrets
import VigilCore
import WebhookDelivery

/// `vigil secrets ...`: credentials sealed at rest (see docs/security.md).
struct SecretsCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "secrets",
        abstract: "Seal stored credentials under the secret key, and rotate that key.",
        discussion: "The key comes from VIGIL_SECRET_KEY (base64 of 32 bytes) or --secret-key-file. Connects with DATABASE_URL or the PG* variables.",
        subcommands: [SecretsEncryptExistingCommand.self, SecretsRotateKeyCommand.self]
    )

    /// The configured keyring, or a clear refusal naming how to configure one.
    static func requireKeyring(_ keyFile: String?, previousKeyFile: String? = nil, command: String) throws -> SecretKeyring {
        let keyring: SecretKeyring?
        do {
            keyring = try SecretKeyring.load(keyFile: keyFile, previousKeyFile: previousKeyFile)
        } catch {
            throw CleanExit.failure("vigil \(command): \(error.message)")
        }
        guard let keyring else { throw CleanExit.failure("vigil \(command): " + SecretsError.noKey(for: command).message) }
        return keyring
    }
}

/// `vigil secrets encrypt-existing`: seals secrets stored before migration 0010.
struct SecretsEncryptExistingCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "encrypt-existing",
        abstract: "Seal every webhook secret still stored in plaintext and erase the plaintext (one transaction)."
    )

    @Option(help: "File holding the secret key (base64 of 32 bytes); or set VIGIL_SECRET_KEY.")
    var secretKeyFile: String?

    func run() async throws {
        let keyring = try SecretsCommand.requireKeyring(secretKeyFile, command: "secrets encrypt-existing")
        let changed = try await WebhooksCommand.withDatabase("secrets encrypt-existing") { db in
            let changed = try await WebhookAdmin.encryptExisting(keyring: keyring, on: db)
            try await TokensCommand.audit("secrets.encrypt_existing", target: keyring.current.id, detail: "{\"sealed\":\(changed)}", on: db)
            return changed
        }
        print("sealed the secrets of \(changed) webhook endpoint(s) under key \(keyring.current.id)")
    }
}

/// `vigil secrets rotate-key --new-key-file F`: re-seals every secret under a new key.
struct SecretsRotateKeyCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "rotate-key",
        abstract: "Re-seal every stored secret under a new key, in one transaction (all or nothing).",
        discussion: """
            The current key (VIGIL_SECRET_KEY or --secret-key-file) opens the secrets; the new one seals them. \
            To rotate without a pause in deliveries: restart serve with the new key as VIGIL_SECRET_KEY and the \
            old one as VIGIL_PREVIOUS_SECRET_KEY, run this, then drop the previous key.
            """
    )

    @Option(help: "File holding the new key (base64 of 32 bytes, e.g. `openssl rand -base64 32 > F`).")
    var newKeyFile: String
    @Option(help: "File holding the current key; or set VIGIL_SECRET_KEY.")
    var secretKeyFile: String?
    @Option(help: "File holding one more key that may have sealed some values (an interrupted earlier rotation).")
    var previousSecretKeyFile: String?

    func run() async throws {
        let keyring = try SecretsCommand.requireKeyring(secretKeyFile, previousKeyFile: previousSecretKeyFile, command: "secrets rotate-key")
        let newKey: SecretKey
        do {
            newKey = try SecretKey(file: newKeyFile)
        } catch {
            throw CleanExit.failure("vigil secrets rotate-key: \(error.message)")
        }
        let changed = try await WebhooksCommand.withDatabase("secrets rotate-key") { db in
            let changed = try await WebhookAdmin.rotateKey(from: keyring, to: newKey, on: db)
            try await TokensCommand.audit(
                "secrets.rotate_key", target: newKey.id, detail: "{\"from_key\":\(JSONText.quoted(keyring.current.id)),\"resealed\":\(changed)}",
                on: db)
            return changed
        }
        print(
            "re-sealed the secrets of \(changed) webhook endpoint(s) under key \(newKey.id) (was \(keyring.current.id)); "
                + "configure the new key (VIGIL_SECRET_KEY or --secret-key-file) wherever vigil runs")
    }
}
