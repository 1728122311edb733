import ArgumentParser
import Foundation
import PostgresStore
import VigilCore
import WebhookDelivery

/// `vigil webhooks ...`: manage Standard Webhooks endpoints, inspect deliveries, replay, receive.
struct WebhooksCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "webhooks",
        abstract: "Manage alert webhook endpoints, inspect and replay deliveries, run a verifying receiver.",
        discussion: "Connects with DATABASE_URL or the PG* variables. See docs/webhooks.md.",
        subcommands: [
            WebhooksAddCommand.self, WebhooksListCommand.self, WebhooksDisableCommand.self, WebhooksEnableCommand.self,
            WebhooksRotateSecretCommand.self, WebhooksDeliveriesCommand.self, WebhooksReplayCommand.self, WebhooksReceiveCommand.self,
        ]
    )

    /// Opens a connection, runs `body`, closes it; store and webhook errors become one clear line.
    static func withDatabase<T: Sendable>(_ command: String, _ body: (PostgresConnection) async throws -> T) async throws -> T {
        do {
            return try await PostgresConnection.withConnection(.fromEnvironment(applicationName: "vigil-webhooks"), body)
        } catch let error as PostgresError {
            throw CleanExit.failure("vigil webhooks \(command): \(error)")
        } catch let error as WebhookError {
            throw CleanExit.failure("vigil webhooks \(command): \(error.message)")
        }
    }

    /// `90s`, `15m`, `24h`, `7d` (or plain seconds).
    static func parseDuration(_ text: String) -> Duration? {
        guard let last = text.last else { return nil }
        let units: [Character: Int64] = ["s": 1, "m": 60, "h": 3600, "d": 86_400]
        if let unit = units[last], let value = Int64(text.dropLast()), value >= 0 { return .seconds(value * unit) }
        if let value = Int64(text), value >= 0 { return .seconds(value) }
        return nil
    }
}

/// `vigil webhooks add URL`: registers an endpoint and prints its secret once.
struct WebhooksAddCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(commandName: "add", abstract: "Register an endpoint; prints its signing secret once.")

    @Argument(help: "The endpoint URL (http or https).")
    var url: String
    @Option(help: "Only alerts at or above this severity: low, medium, high, critical.")
    var minSeverity: String?
    @Option(help: "Use this whsec_ secret instead of generating one.")
    var secret: String?
    @Option(name: .customLong("event-type"), help: "Event types to receive (repeatable; default alert.created).")
    var eventTypes: [String] = [AlertEventBody.eventType]
    @Option(help: "File holding the secret key that seals the signing secret (base64 of 32 bytes); or set VIGIL_SECRET_KEY.")
    var secretKeyFile: String?

    func run() async throws {
        let keyring = try SecretsCommand.requireKeyring(secretKeyFile, command: "webhooks add")
        let secret: WebhookSecret
        do {
            secret = try self.secret.map { try WebhookSecret($0) } ?? WebhookSecret.generate()
        } catch let error as WebhookError {
            throw CleanExit.failure("vigil webhooks add: \(error.message)")
        }
        let id = try await WebhooksCommand.withDatabase("add") { db in
            let id = try await WebhookAdmin.addEndpoint(
                url: url, secret: secret, keyring: keyring, minSeverity: minSeverity, eventTypes: eventTypes, on: db)
            try await TokensCommand.audit("webhook.add", target: "\(id)", detail: "{\"url\":\(JSONText.quoted(url))}", on: db)
            return id
        }
        print("added webhook endpoint \(id): \(url)")
        if self.secret == nil {
            print("secret: \(secret.text)")
            print("(shown once: give it to the consumer, who verifies webhook-signature with it)")
        }
    }
}

/// `vigil webhooks list`: endpoints with their state and message counts, never secrets.
struct WebhooksListCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(commandName: "list", abstract: "List endpoints, their state and message counts.")

    func run() async throws {
        let endpoints = try await WebhooksCommand.withDatabase("list") { db in try await WebhookAdmin.listEndpoints(on: db) }
        if endpoints.isEmpty {
            print("no webhook endpoints; add one with 'vigil webhooks add URL'")
            return
        }
        let now = Timestamp.now()
        for endpoint in endpoints {
            var state = endpoint.enabled ? "enabled" : "DISABLED (\(endpoint.disabledReason ?? "no reason"))"
            if let since = endpoint.failingSince, endpoint.enabled { state += ", failing since \(since)" }
            if let until = endpoint.previousSecretUntil, until > now { state += ", rotating until \(until)" }
            let filter = endpoint.minSeverity.map { " min-severity=\($0)" } ?? ""
            print("\(endpoint.id)\t\(endpoint.url)\t\(state)")
            print(
                "\tevents=\(endpoint.eventTypes.joined(separator: ","))\(filter) pending=\(endpoint.pending) delivered=\(endpoint.delivered) dead=\(endpoint.dead)"
            )
        }
    }
}
