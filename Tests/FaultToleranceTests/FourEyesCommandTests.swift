import FeedServer
import Foundation
import Testing
import VigilTesting

#if canImport(Glibc)
import Glibc
#endif

extension FaultToleranceTests {
    /// Four-eyes promotion through the real binaries: `vigil rules propose` stores a
    /// checked, tested and backtested candidate; its proposer's token cannot approve it;
    /// another admin's can, and `vigil serve --four-eyes` makes it live; SIGHUP is refused;
    /// a restart serves the approved rules, not the folder.
    @Test("17. vigil rules propose|approve|proposals against vigil serve --four-eyes", .timeLimit(.minutes(4)))
    func fourEyesCommands() async throws {
        try await ScratchDatabase.with("foureyes") { database in
            let server = try await ServeProcess.start(database: database, name: "serve", extra: ["--four-eyes"])
            var running = server
            defer { Task { [running] in await running.stop() } }
            func token(_ name: String) async throws -> String {
                let output = try await VigilProcess.run(
                    ["tokens", "create", "--name", name, "--role", "admin"], database: database, in: database.folder)
                return try #require(output.split(separator: "\n").first { $0.hasPrefix("vgl_") }.map(String.init))
            }
            let alice = try await token("alice")
            let bob = try await token("bob")
            let folderVersion = try #require(try await Self.ruleset(port: server.feedPort, id: "fe-1"))

            // The candidate: the shipped rules with one more comment line (a new version).
            let candidate = database.folder.appendingPathComponent("candidate")
            try FileManager.default.copyItem(at: VigilProcess.repositoryRoot.appendingPathComponent("Rules"), to: candidate)
            let amount = candidate.appendingPathComponent("amount.rules")
            try (String(contentsOf: amount, encoding: .utf8) + "\n# reviewed under four eyes\n").write(to: amount, atomically: true, encoding: .utf8)

            let proposed = try await VigilProcess.run(
                ["rules", "propose", candidate.path, "-m", "annotate the amount rules", "--token", alice], database: database, in: database.folder)
            #expect(proposed.contains("by alice") && proposed.contains("backtest against the live run"), "\(proposed)")
            let id = try #require(Self.first(#"proposal (\d+):"#, in: proposed))
            let version = try #require(Self.first(#"ruleset (rs-[0-9a-f]+)"#, in: proposed))
            #expect(version != folderVersion)

            for (arguments, expected) in [
                (["rules", "approve", id, "--token", alice], "other than the proposer"),
                (["rules", "approve", id], "needs an admin API token"),
            ] {
                do {
                    try await VigilProcess.run(arguments, database: database, in: database.folder)
                    Issue.record("vigil \(arguments.joined(separator: " ")) succeeded")
                } catch let error as FaultTestError {
                    #expect(error.description.contains(expected), "\(error)")
                }
            }
            let listed = try await VigilProcess.run(["rules", "proposals"], database: database, in: database.folder)
            #expect(listed.contains("\(id)\tproposed\t\(version)\tby alice"), "\(listed)")
            let shown = try await VigilProcess.run(["rules", "proposals", id], database: database, in: database.folder)
            #expect(shown.contains("+# reviewed under four eyes"), "the reviewer sees the diff against the live rules: \(shown)")

            try await VigilProcess.run(["rules", "approve", id, "--token", bob], database: database, in: database.folder)
            try await waitUntil("the approved ruleset decides new transactions") {
                try await Self.ruleset(port: server.feedPort, id: "fe-\(UUID().uuidString.prefix(8))") == version
            }
            let history = try await VigilProcess.run(["rules", "history"], database: database, in: database.folder)
            #expect(history.split(separator: "\n").first?.contains("\(version)") == true && history.contains("approval by bob"), "\(history)")

            server.child.kill(SIGHUP)
            try await waitUntil("SIGHUP refused under --four-eyes") { server.child.log.contains("four-eyes promotion is on (--four-eyes)") }
            #expect(try await Self.ruleset(port: server.feedPort, id: "fe-after-hup") == version)

            await server.stop()
            running = try await server.restart(name: "serve-2")
            #expect(try await Self.ruleset(port: running.feedPort, id: "fe-restarted") == version, "\(running.logTail)")
            #expect(running.child.log.contains("serving the last approved ruleset"))

            let audit = try await VigilProcess.run(["audit"], database: database, in: database.folder)
            for action in ["rules.propose", "rules.approve_refused", "rules.approve", "rules.activate"] {
                #expect(audit.contains("\t\(action) proposal \(id)"), "\(action) missing: \(audit)")
            }
        }
    }

    /// The ruleset version that the ack of one new transaction names.
    static func ruleset(port: Int, id: String) async throws -> String? {
        try await FeedClient.withConnection(host: "127.0.0.1", port: port) { connection in
            try await connection.send(lines: [validLine(id, account: "acc-4eyes")])
            return try await connection.nextDecidedReply()?.decision?.ruleset
        }
    }

    /// The first capture group of `pattern` in `text`.
    static func first(_ pattern: String, in text: String) -> String? {
        guard let regex = try? NSRegularExpression(pattern: pattern),
            let match = regex.firstMatch(in: text, range: NSRange(text.startIndex..., in: text)), match.numberOfRanges > 1,
            let range = Range(match.range(at: 1), in: text)
        else { return nil }
        return String(text[range])
    }
}
