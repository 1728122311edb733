import ArgumentParser
import VigilCore
import WebhookDelivery

/// `vigil webhooks disable ID`: stops deliveries; pending messages wait.
struct WebhooksDisableCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(commandName: "disable", abstract: "Disable an endpoint (its pending messages wait).")

    @Argument(help: "The endpoint id (see 'vigil webhooks list').")
    var id: Int64
    @Option(help: "Why, shown by 'list'.")
    var reason: String = "disabled by operator"

    func run() async throws {
        try await WebhooksCommand.withDatabase("disable") { db in
            try await WebhookAdmin.setEnabled(id, false, reason: reason, on: db)
            try await TokensCommand.audit("webhook.disable", target: "\(id)", detail: "{\"reason\":\(JSONText.quoted(reason))}", on: db)
        }
        print("disabled webhook endpoint \(id)")
    }
}

/// `vigil webhooks enable ID`: resumes deliveries, including messages that waited.
struct WebhooksEnableCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(commandName: "enable", abstract: "Enable an endpoint; its pending messages are delivered.")

    @Argument(help: "The endpoint id (see 'vigil webhooks list').")
    var id: Int64

    func run() async throws {
        try await WebhooksCommand.withDatabase("enable") { db in
            try await WebhookAdmin.setEnabled(id, true, on: db)
            try await TokensCommand.audit("webhook.enable", target: "\(id)", on: db)
        }
        print("enabled webhook endpoint \(id)")
    }
}

/// `vigil webhooks rotate-secret ID`: new secret; the old one keeps signing for a grace period.
struct WebhooksRotateSecretCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "rotate-secret",
        abstract: "Replace an endpoint's secret; both sign (two signatures) during the grace period."
    )

    @Argument(help: "The endpoint id (see 'vigil webhooks list').")
    var id: Int64
    @Option(help: "How long the previous secret keeps signing: 90s, 30m, 24h, 7d.")
    var grace: String = "24h"
    @Option(help: "Use this whsec_ secret instead of generating one.")
    var secret: String?
    @Option(help: "File holding the secret key that seals the signing secret (base64 of 32 bytes); or set VIGIL_SECRET_KEY.")
    var secretKeyFile: String?

    func run() async throws {
        let keyring = try SecretsCommand.requireKeyring(secretKeyFile, command: "webhooks rotate-secret")
        guard let grace = WebhooksCommand.parseDuration(grace) else {
            throw CleanExit.failure("vigil webhooks rotate-secret: --grace takes a duration such as 90s, 30m, 24h or 7d")
        }
        let secret: WebhookSecret
        do {
            secret = try self.secret.map { try WebhookSecret($0) } ?? WebhookSecret.generate()
        } catch let error as WebhookError {
            throw CleanExit.failure("vigil webhooks rotate-secret: \(error.message)")
        }
        try await WebhooksCommand.withDatabase("rotate-secret") { db in
            try await WebhookAdmin.rotateSecret(id, to: secret, keyring: keyring, grace: grace, on: db)
            try await TokensCommand.audit("webhook.rotate_secret", target: "\(id)", detail: "{\"grace\":\(JSONText.quoted(self.grace))}", on: db)
        }
        print("rotated the secret of webhook endpoint \(id); the previous one keeps signing for \(self.grace)")
        if self.secret == nil { print("new secret: \(secret.text)") }
    }
}
