import FeedServer
import Foundation
import PostgresStore
import Testing
import VigilTesting

#if canImport(Glibc)
import Glibc
#endif

/// Alerts raised more than once for one transaction.
private let doubleAlerts: PostgresQuery =
    "SELECT count(*)::int FROM (SELECT transaction_id FROM alerts GROUP BY transaction_id HAVING count(*) > 1) twice"

extension FaultToleranceTests {
    /// `vigil serve --ha` as node `name` (its sessions are `vigil-<name>` in pg_stat_activity).
    static func haNode(_ database: ScratchDatabase, name: String, log: String? = nil, ports: ServeProcess? = nil) async throws -> ServeProcess {
        try await ServeProcess.start(
            database: database, name: log ?? name, extra: ["--ha", "--ha-node", name, "--lease", "3"],
            feedPort: ports?.feedPort, opsPort: ports?.opsPort, waitReady: false)
    }

    /// Waits until `node` answers /readyz as the standby of a running leader.
    static func waitStandby(_ node: ServeProcess) async throws {
        try await waitUntil(within: .seconds(60), "node on ops port \(node.opsPort) to be a standby:\n\(node.logTail)") {
            guard let answer = Network.get(port: node.opsPort, path: "/readyz") else { return false }
            return answer.status == 503 && answer.body.contains("\"role\":\"standby\"") && answer.body.contains("\"leader\"")
        }
    }

    /// The node's log lines about the lease and the state it loaded (the takeover's parts, timed).
    static func leaseEvents(_ node: ServeProcess, label: String) -> String {
        node.child.log.split(separator: "\n").filter { $0.contains("leadership lease") || $0.contains("detection state loaded") }
            .map { "\(label): \($0)" }.joined(separator: "\n")
    }

    @Test(
        "15. HA: the leader SIGKILLed mid-feed, twice: the standby leads within 5 s, feed send (both addresses) gets every record acked, each stored once, alerts once",
        .timeLimit(.minutes(3)))
    func leaderKilled() async throws {
        try await ScratchDatabase.with("hakill") { database in
            let half = 8_000
            let feed = try await GeneratedFeed.make(count: 2 * half, seed: 21, into: database)
            var files: [String] = []
            for round in 0..<2 {
                let path = database.folder.appendingPathComponent("round-\(round).ndjson").path
                try (feed.lines[(round * half)..<((round + 1) * half)].joined(separator: "\n") + "\n").write(
                    toFile: path, atomically: true, encoding: .utf8)
                files.append(path)
            }
            var leader = try await Self.haNode(database, name: "ha-a")
            try await leader.waitReady()
            var standby = try await Self.haNode(database, name: "ha-b")
            try await Self.waitStandby(standby)
            var takeovers: [Duration] = []
            for round in 0..<2 {
                // Round 0 names the leader first; round 1 the standby first (it answers not_leader).
                let order = round == 0 ? [leader, standby] : [standby, leader]
                let base = try await database.count("SELECT count(*)::int FROM transactions")
                let sender = try VigilProcess.start(
                    [
                        "feed", "send", files[round], "--json", "--connections", "4",
                        "--host", order.map { "127.0.0.1:\($0.feedPort)" }.joined(separator: ","),
                    ], database: nil, log: database.folder.appendingPathComponent("send-\(round).log"))
                try await waitUntil(within: .seconds(60), "round \(round): 1,500 records stored before the kill") {
                    try await database.count("SELECT count(*)::int FROM transactions") >= base + 1_500 || !sender.isRunning
                }
                #expect(sender.isRunning, "round \(round): the kill must land mid-feed:\n\(sender.log)")
                leader.child.kill(SIGKILL)
                let killed = ContinuousClock.now
                try await waitUntil(within: .seconds(30), "round \(round): the standby to lead:\n\(standby.logTail)", poll: .milliseconds(10)) {
                    Network.get(port: standby.opsPort, path: "/readyz")?.status == 200
                }
                takeovers.append(ContinuousClock.now - killed)
                print(Self.leaseEvents(standby, label: "round \(round), new leader"))
                let status = await sender.waitForExit(timeout: .seconds(90))
                #expect(status == 0, "round \(round): feed send:\n\(sender.log)")
                let summary = sender.log.split(separator: "\n").last { $0.hasPrefix("{") }.map(String.init) ?? ""
                let object = (try? JSONSerialization.jsonObject(with: Data(summary.utf8))) as? [String: Any]
                #expect(object?["acked"] as? Int == half && object?["unanswered"] as? Int == 0, "round \(round): \(summary)")
                _ = await leader.child.waitForExit(timeout: .seconds(10))
                // The killed node comes back (as systemd would start it) and stands by.
                let restarted = try await Self.haNode(database, name: round == 0 ? "ha-a" : "ha-b", log: "node-round-\(round)", ports: leader)
                try await Self.waitStandby(restarted)
                (leader, standby) = (standby, restarted)
            }
            await leader.stop()
            await standby.stop()
            let stored = try await storedOnce(feed.ids, in: database)
            #expect(stored.missing == 0 && stored.extra == 0 && stored.duplicated == 0, "\(stored)")
            #expect(try await database.count(doubleAlerts) == 0, "an alert raised twice for one transaction")
            #expect(try await database.count("SELECT count(*)::int FROM alerts") > 0, "the labeled feed should raise alerts")
            #expect(try await database.count("SELECT epoch::int FROM leader_lease") == 3, "two takeovers after the first lead")
            let figures = takeovers.map { String(format: "%.2f s", Double($0.components.seconds) + Double($0.components.attoseconds) / 1e18) }
            print("HA takeover after SIGKILL (kill to the standby's /readyz 200): \(figures.joined(separator: ", "))")
            for (round, takeover) in takeovers.enumerated() {
                #expect(takeover < .seconds(5), "round \(round): the standby took \(takeover) to lead (target 5 s)")
            }
        }
    }
}
