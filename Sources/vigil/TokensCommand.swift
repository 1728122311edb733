import Access
import ArgumentParser
import Foundation
import PostgresStore
import VigilCore

/// `vigil tokens ...`: API tokens for the HTTP endpoints (see docs/security.md).
struct TokensCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "tokens",
        abstract: "Create, list and revoke API tokens (roles viewer < analyst < admin).",
        discussion: "Connects with DATABASE_URL or the PG* variables. Every create and revoke is written to the audit log.",
        subcommands: [TokensCreateCommand.self, TokensListCommand.self, TokensRevokeCommand.self]
    )

    /// Opens a connection for `vigil <command>`, runs `body`; store and access errors become one clear line.
    static func withDatabase<T: Sendable>(_ command: String, _ body: (PostgresConnection) async throws -> T) async throws -> T {
        do {
            return try await PostgresConnection.withConnection(.fromEnvironment(applicationName: "vigil-cli"), body)
        } catch let error as PostgresError {
            throw CleanExit.failure("vigil \(command): \(error)")
        } catch let error as AccessError {
            throw CleanExit.failure("vigil \(command): \(error.message)")
        }
    }

    /// Records a CLI admin action done by `body`'s caller, right after it succeeded, on the
    /// same connection (the webhook and secrets actions commit in their own transaction).
    static func audit(_ action: String, target: String?, detail: String = "{}", on db: PostgresConnection) async throws {
        try await db.transaction { try AuditLog.record(action, target: target, detail: detail, by: actor, on: $0) }
    }

    /// Who runs the command, for the audit log: `cli:$USER`.
    static var actor: Actor { Actor.commandLine(user: ProcessInfo.processInfo.environment["USER"] ?? ProcessInfo.processInfo.userName) }
}

/// `vigil tokens create --name N --role R [--expires 90d]`: prints the token once.
struct TokensCreateCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(commandName: "create", abstract: "Create a token; prints it once (only its digest is stored).")

    @Option(help: "A name for the token, unique among tokens not revoked (e.g. grafana, alice).")
    var name: String
    @Option(help: "viewer (alert stream, metrics), analyst (viewer + investigation), admin (everything, e.g. rule reload).")
    var role: String
    @Option(help: "Lifetime: 90s, 30m, 24h, 90d (default: never expires).")
    var expires: String?

    func run() async throws {
        guard let role = Role(rawValue: role) else {
            throw CleanExit.failure("vigil tokens create: --role \(self.role) is not a role; use viewer, analyst or admin")
        }
        var expiresAt: Timestamp?
        if let expires {
            guard let lifetime = WebhooksCommand.parseDuration(expires), lifetime > .zero else {
                throw CleanExit.failure("vigil tokens create: --expires \(expires) is not a duration; use e.g. 90s, 30m, 24h or 90d")
            }
            expiresAt = Timestamp.now().adding(microseconds: lifetime.components.seconds * 1_000_000)
        }
        let token = try await TokensCommand.withDatabase("tokens create") { db in
            try await TokenStore.create(name: name, role: role, expiresAt: expiresAt, by: TokensCommand.actor, on: db)
        }
        print(token.text)
        let expiry = expiresAt.map { "expires \($0)" } ?? "does not expire"
        FileHandle.standardError.write(
            Data("created token '\(name)' (role \(role), \(expiry)); shown once: store it now, only its digest is kept\n".utf8))
    }
}

/// `vigil tokens list`: names, roles and dates; never a token.
struct TokensListCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(commandName: "list", abstract: "List tokens (names, roles, dates; never the tokens).")

    func run() async throws {
        let tokens = try await TokensCommand.withDatabase("tokens list") { db in try await TokenStore.list(on: db) }
        if tokens.isEmpty {
            print("no tokens; create one with 'vigil tokens create --name NAME --role viewer|analyst|admin'")
            return
        }
        let now = Timestamp.now()
        print("NAME\tROLE\tSTATE\tCREATED\tEXPIRES\tLAST USED")
        for token in tokens {
            let state: String
            if let revoked = token.revokedAt {
                state = "revoked \(revoked)"
            } else if let expires = token.expiresAt, expires <= now {
                state = "expired"
            } else {
                state = "active"
            }
            let expires = token.expiresAt.map { "\($0)" } ?? "never"
            let used = token.lastUsedAt.map { "\($0)" } ?? "never"
            print("\(token.name)\t\(token.role)\t\(state)\t\(token.createdAt)\t\(expires)\t\(used)")
        }
    }
}

/// `vigil tokens revoke NAME`: refused from the next request on.
struct TokensRevokeCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(commandName: "revoke", abstract: "Revoke a token; the next request with it gets 401.")

    @Argument(help: "The token's name (see 'vigil tokens list').")
    var name: String

    func run() async throws {
        try await TokensCommand.withDatabase("tokens revoke") { db in
            try await TokenStore.revoke(name: name, by: TokensCommand.actor, on: db)
        }
        print("revoked token '\(name)'")
    }
}
