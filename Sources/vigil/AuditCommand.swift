import Access
import ArgumentParser
import Foundation
import VigilCore

/// `vigil audit`: the audit log, oldest first.
struct AuditCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "audit",
        abstract: "Print the audit log: who did which admin action, when, from where.",
        discussion: "Connects with DATABASE_URL or the PG* variables."
    )

    @Option(help: "Only entries at or after this time: RFC 3339 (2026-12-01T00:00:00Z) or an age (90m, 24h, 7d).")
    var since: String?
    @Option(help: "At most this many entries (the newest).")
    var limit: Int = 100
    @Flag(help: "One JSON object per line.")
    var json = false

    func run() async throws {
        var from: Timestamp?
        if let since {
            if let age = WebhooksCommand.parseDuration(since) {
                from = Timestamp.now().adding(microseconds: -age.components.seconds * 1_000_000)
            } else if let time = RFC3339.parse(since) {
                from = time
            } else {
                throw CleanExit.failure("vigil audit: --since \(since) is neither an RFC 3339 time (2026-12-01T00:00:00Z) nor an age (24h)")
            }
        }
        guard limit > 0 else { throw CleanExit.failure("vigil audit: --limit must be positive") }
        let entries = try await TokensCommand.withDatabase("audit") { db in try await AuditLog.entries(since: from, limit: limit, on: db) }
        if entries.isEmpty && !json {
            print("no audit entries" + (since.map { " since \($0)" } ?? ""))
            return
        }
        for entry in entries {
            if json {
                let fields = [
                    "\"id\":\(entry.id)", "\"at\":\(JSONText.quoted("\(entry.at)"))", "\"actor\":\(JSONText.quoted(entry.actor))",
                    "\"action\":\(JSONText.quoted(entry.action))", "\"target\":\(entry.target.map(JSONText.quoted) ?? "null")",
                    "\"detail\":\(entry.detail)", "\"remote_address\":\(entry.remoteAddress.map(JSONText.quoted) ?? "null")",
                ]
                print("{" + fields.joined(separator: ",") + "}")
            } else {
                let target = entry.target.map { " \($0)" } ?? ""
                let remote = entry.remoteAddress.map { " from \($0)" } ?? ""
                print("\(entry.at)\t\(entry.actor)\t\(entry.action)\(target)\(remote)\t\(entry.detail)")
            }
        }
    }
}
