import Access
import ArgumentParser
import Cases
import Foundation
import PostgresStore
import VigilCore

/// `vigil cases ...`: the investigator API's reads and actions for operators without a
/// browser, on the database directly, acting as `cli:$USER` (docs/api.md).
struct CasesCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "cases",
        abstract: "List, show and work cases (alerts grouped per account), and export investigators' labels.",
        discussion: "Connects with DATABASE_URL or the PG* variables. Changes are recorded in each case's history as cli:$USER.",
        subcommands: [
            CasesListCommand.self, CasesShowCommand.self, CasesAssignCommand.self, CasesNoteCommand.self, CasesStatusCommand.self,
            CasesCloseCommand.self, CasesExportCommand.self, CasesConfigureCommand.self,
        ]
    )

    /// Runs `body` on a connection; case, store and access errors become one clear line.
    static func run<T: Sendable>(_ command: String, _ body: (PostgresConnection) async throws -> T) async throws -> T {
        do {
            return try await TokensCommand.withDatabase("cases \(command)", body)
        } catch let error as CaseError {
            throw CleanExit.failure("vigil cases \(command): \(error.message)")
        }
    }

    /// Applies a change and prints the case as it now is.
    static func apply(_ change: CaseChange, to id: Int64, command: String) async throws {
        let actor = TokensCommand.actor.name
        let summary = try await run(command) { try await CaseStore.apply(change, toCase: id, by: actor, on: $0) }
        print(
            "case \(id): \(summary["status"]?.cell ?? "?"), assignee \(summary["assignee"]?.cell ?? "-"), "
                + "disposition \(summary["disposition"]?.cell ?? "-"), revision \(summary["revision"]?.cell ?? "?")")
    }
}

/// `vigil cases list [--status S] [--severity S] [--rule R] [--assignee A] [--account A] [--from T] [--to T] [--limit N] [--json]`.
struct CasesListCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(commandName: "list", abstract: "List cases, newest first.")

    @Option(help: "open, in_review or closed.") var status: String?
    @Option(help: "low, medium, high or critical.") var severity: String?
    @Option(help: "Only cases with an alert of this rule.") var rule: String?
    @Option(help: "Only cases assigned to this name.") var assignee: String?
    @Option(help: "Only this account.") var account: String?
    @Option(help: "Opened at or after (RFC 3339).") var from: String?
    @Option(help: "Opened before (RFC 3339).") var to: String?
    @Option(help: "At most this many (1-500).") var limit = 50
    @Option(help: "The next_cursor of an earlier page.") var cursor: String?
    @Flag(help: "Print the API's JSON page.") var json = false

    func run() async throws {
        var parameters: [(name: String, value: String)] = [("limit", String(limit))]
        for (name, value) in [
            ("status", status), ("severity", severity), ("rule", rule), ("assignee", assignee), ("account", account), ("from", from),
            ("to", to), ("cursor", cursor),
        ] {
            if let value { parameters.append((name, value)) }
        }
        let filter: ListFilter
        do {
            filter = try ListFilter(parameters: parameters)
        } catch {
            throw CleanExit.failure("vigil cases list: \(error.message.replacingOccurrences(of: "query parameter", with: "option"))")
        }
        let page = try await CasesCommand.run("list") { try await CaseStore.cases(filter, on: $0) }
        if json {
            print(page.json.text)
            return
        }
        if page.items.isEmpty {
            print("no cases match; cases open when alerts are raised (see 'vigil cases list --status closed' for closed ones)")
            return
        }
        print("ID\tSTATUS\tSEVERITY\tALERTS\tACCOUNT\tASSIGNEE\tDISPOSITION\tLAST ALERT")
        for item in page.items {
            let cells = ["id", "status", "severity", "alert_count", "account_id", "assignee", "disposition", "last_alert_at"]
            print(cells.map { item[$0]?.cell ?? "-" }.joined(separator: "\t"))
        }
        if let next = page.nextCursor { print("more: vigil cases list --cursor \(next)") }
    }
}

/// `vigil cases show ID`: the case with its alerts, evidence, notes and history, as JSON.
struct CasesShowCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(commandName: "show", abstract: "Show a case (JSON, as GET /api/v1/cases/ID).")

    @Argument(help: "The case id.") var id: Int64

    func run() async throws {
        let value = try await CasesCommand.run("show") { try await CaseStore.case(id: id, on: $0) }
        print(value.text)
    }
}

/// `vigil cases assign ID --to NAME | --unassign`.
struct CasesAssignCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(commandName: "assign", abstract: "Assign a case to someone, or unassign it.")

    @Argument(help: "The case id.") var id: Int64
    @Option(help: "Who works it (a token's name, usually).") var to: String?
    @Flag(help: "Remove the assignee.") var unassign = false

    func run() async throws {
        guard (to == nil) != !unassign else { throw CleanExit.failure("vigil cases assign: give exactly one of --to NAME and --unassign") }
        try await CasesCommand.apply(.assign(to), to: id, command: "assign")
    }
}

/// `vigil cases note ID -m TEXT`.
struct CasesNoteCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(commandName: "note", abstract: "Add a note to a case (notes are never edited).")

    @Argument(help: "The case id.") var id: Int64
    @Option(name: [.customShort("m"), .long], help: "The note.") var message: String

    func run() async throws { try await CasesCommand.apply(.note(message), to: id, command: "note") }
}

/// `vigil cases status ID open|in_review`.
struct CasesStatusCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(commandName: "status", abstract: "Move a case between open and in_review.")

    @Argument(help: "The case id.") var id: Int64
    @Argument(help: "open or in_review (close with 'vigil cases close').") var status: String

    func run() async throws {
        guard let target = CaseStatus(rawValue: status), target != .closed else {
            throw CleanExit.failure("vigil cases status: '\(status)' is not open or in_review (close with 'vigil cases close ID --disposition D')")
        }
        try await CasesCommand.apply(.status(target), to: id, command: "status")
    }
}

/// `vigil cases close ID --disposition fraud|legitimate|inconclusive [--reason R]`.
struct CasesCloseCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(commandName: "close", abstract: "Close a case with a disposition (final).")

    @Argument(help: "The case id.") var id: Int64
    @Option(help: "fraud (confirmed), legitimate (false positive) or inconclusive.") var disposition: String
    @Option(help: "Why; required unless the disposition is fraud.") var reason: String?

    func run() async throws {
        guard let value = Disposition(rawValue: disposition) else {
            throw CleanExit.failure("vigil cases close: --disposition \(disposition) is not fraud, legitimate or inconclusive")
        }
        try await CasesCommand.apply(.close(value, reason: reason), to: id, command: "close")
    }
}

/// `vigil cases export --since T [--output FILE]`: labeled transactions as JSON lines.
struct CasesExportCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "export", abstract: "Write the alerts of cases closed since T with their transactions and labels (JSON lines).")

    @Option(help: "Cases closed at or after this time (RFC 3339).") var since: String
    @Option(help: "Write to this file instead of standard output.") var output: String?

    func run() async throws {
        guard let start = RFC3339.parse(since) else {
            throw CleanExit.failure("vigil cases export: --since \(since) is not an RFC 3339 time such as 2026-12-01T00:00:00Z")
        }
        let handle: FileHandle
        if let output {
            guard FileManager.default.createFile(atPath: output, contents: nil) else {
                throw CleanExit.failure("vigil cases export: cannot create \(output)")
            }
            guard let opened = FileHandle(forWritingAtPath: output) else { throw CleanExit.failure("vigil cases export: cannot open \(output)") }
            handle = opened
        } else {
            handle = FileHandle.standardOutput
        }
        let count = try await CasesCommand.run("export") { db in
            try await CaseStore.exportLabels(since: start, on: db) { line in handle.write(Data((line + "\n").utf8)) }
        }
        FileHandle.standardError.write(Data("exported \(count) labeled alerts closed since \(RFC3339.format(start))\n".utf8))
    }
}

/// `vigil cases configure --group-window 24h`: the case grouping rule's window.
struct CasesConfigureCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "configure",
        abstract: "Set how close in time an account's alerts must be to join one case (default 24h; 0s: one case per alert).")

    @Option(help: "An alert joins the account's open case whose latest alert is at most this old: 0s, 30m, 24h, 7d.")
    var groupWindow: String

    func run() async throws {
        guard let window = WebhooksCommand.parseDuration(groupWindow), window >= .zero else {
            throw CleanExit.failure("vigil cases configure: --group-window \(groupWindow) is not a duration; use e.g. 0s, 30m, 24h or 7d")
        }
        let seconds = window.components.seconds
        try await CasesCommand.run("configure") { db in
            try await db.transaction { db in
                try db.execute("UPDATE case_settings SET group_window = make_interval(secs => \(seconds)::float8)")
                try AuditLog.record(
                    "cases.configure", target: nil, detail: "{\"group_window_seconds\":\(seconds)}", by: TokensCommand.actor, on: db)
            }
        }
        print("alerts of one account now join a case while its latest alert is at most \(groupWindow) old")
    }
}
