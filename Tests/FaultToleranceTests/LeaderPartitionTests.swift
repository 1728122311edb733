import FeedServer
import Foundation
import PostgresStore
import Testing
import VigilTesting

#if canImport(Glibc)
import Glibc
#endif

/// Acks as a client saw them: which node, when (wall clock, to compare with the database's).
private struct SeenAck: Sendable {
    var id: String
    var port: Int
    var at: Date
}

extension FaultToleranceTests {
    /// Sends `lines` one at a time, waiting for each ack, to the first of `ports` that
    /// serves; on a not_leader refusal or a lost connection, the unacked line goes to the
    /// next port. Stops at `stop` or when every line is acked.
    private static func stepwiseClient(_ lines: [String], ids: [String], ports: [Int], stop: Shared<Bool>, seen: Shared<[SeenAck]>) async {
        var next = 0
        var attempt = 0
        while next < lines.count, !stop.withLock({ $0 }) {
            let port = ports[attempt % ports.count]
            attempt += 1
            try? await FeedClient.withConnection(host: "127.0.0.1", port: port) { connection in
                while next < lines.count, !stop.withLock({ $0 }) {
                    try await connection.send(lines: [lines[next]])
                    guard let reply = try await connection.nextReply(), case .ack(let id, _) = reply, id == ids[next] else { return }
                    let ack = SeenAck(id: id, port: port, at: Date())
                    seen.withLock { $0.append(ack) }
                    next += 1
                }
            }
            // A client's reconnect backoff, not a test's wait.
            try? await Task.sleep(for: .milliseconds(50))
        }
    }

    @Test(
        "16. HA: the leader cut off from PostgreSQL stops acking within the lease and exits 75; the standby leads only after its last ack",
        .timeLimit(.minutes(2)))
    func leaderCutOff() async throws {
        try await ScratchDatabase.with("hacut") { database in
            let a = try await Self.haNode(database, name: "cut-a")
            defer { Task { await a.stop() } }
            try await a.waitReady()
            let b = try await Self.haNode(database, name: "cut-b")
            defer { Task { await b.stop() } }
            try await Self.waitStandby(b)
            // feed bench, given both nodes with the standby first, runs against the leader.
            let bench = try await VigilProcess.run(
                [
                    "feed", "bench", "--host", "127.0.0.1:\(b.feedPort),127.0.0.1:\(a.feedPort)", "--rate", "300", "--duration", "1",
                    "--warmup", "0", "--connections", "2", "--accounts", "500", "--json",
                ], database: nil, in: database.folder)
            let report = bench.split(separator: "\n").last { $0.hasPrefix("{") }.flatMap {
                try? JSONSerialization.jsonObject(with: Data($0.utf8)) as? [String: Any]
            }
            #expect(
                report?["port"] as? Int == a.feedPort && (report?["acked"] as? Int ?? 0) > 0 && report?["nacked"] as? Int == 0,
                "feed bench with two addresses:\n\(bench)")
            let ids = (0..<5_000).map { "cut-\($0)" }
            let lines = ids.enumerated().map { validLine($1, account: "acc-\($0 % 40)") }
            let stop = Shared(false)
            let seen = Shared<[SeenAck]>([])
            let client = Task { await Self.stepwiseClient(lines, ids: ids, ports: [a.feedPort, b.feedPort], stop: stop, seen: seen) }
            try await waitUntil(within: .seconds(30), "50 acks from the leader") { seen.withLock { $0.count } >= 50 }

            // The partition: every session of node a is terminated as soon as it appears, and
            // what slips through between two rounds cannot renew its lease (a reconnect is
            // quicker than the loop: without this the lease would sometimes live on).
            try await PostgresConnection.withConnection(database.configuration) { db in
                _ = try await db.execute(
                    """
                    CREATE FUNCTION test_partition() RETURNS trigger LANGUAGE plpgsql AS $$
                    BEGIN
                        IF current_setting('application_name') LIKE 'vigil-cut-a%' THEN RAISE EXCEPTION 'node a is cut off (test)'; END IF;
                        RETURN NEW;
                    END $$
                    """)
                _ = try await db.execute(
                    "CREATE TRIGGER test_partition BEFORE UPDATE ON leader_lease FOR EACH ROW EXECUTE FUNCTION test_partition()")
            }
            let cutAt = Date()
            let cutting = Shared(true)
            let cutter = Task {
                try await PostgresConnection.withConnection(database.configuration) { db in
                    while cutting.withLock({ $0 }) {
                        _ = try await db.query(
                            "SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE application_name LIKE 'vigil-cut-a%' AND pid <> pg_backend_pid()"
                        )
                        try await Task.sleep(for: .milliseconds(10))
                    }
                }
            }
            let exit = await a.child.waitForExit(timeout: .seconds(20))
            cutting.withLock { $0 = false }
            try await cutter.value
            #expect(exit == 75, "a leader that cannot renew its lease exits 75:\n\(a.logTail)")
            #expect(a.child.log.contains("lost the leadership lease"), "\(a.logTail)")
            try await waitUntil(within: .seconds(30), "50 acks from the new leader:\n\(b.logTail)") {
                seen.withLock { acks in acks.filter { $0.port == b.feedPort }.count } >= 50
            }
            stop.withLock { $0 = true }
            await client.value

            let acks = seen.withLock { $0 }
            let lastFromA = try #require(acks.last { $0.port == a.feedPort })
            let firstFromB = try #require(acks.first { $0.port == b.feedPort })
            let acquired = try await PostgresConnection.withConnection(database.configuration) { db in
                try await db.query("SELECT extract(epoch FROM acquired_at)::float8, epoch FROM leader_lease").first.map {
                    (Date(timeIntervalSince1970: try $0.decode(0, as: Double.self)), try $0.decode(1, as: Int.self))
                }
            }
            let (takenAt, epoch) = try #require(acquired)
            let stoppedAfter = lastFromA.at.timeIntervalSince(cutAt)
            print(
                String(
                    format:
                        "HA partition: node a's last ack %.2f s after the cut, exit %.2f s after; node b took the lease %.2f s after the cut, first ack %.2f s",
                    stoppedAfter, Date().timeIntervalSince(cutAt), takenAt.timeIntervalSince(cutAt), firstFromB.at.timeIntervalSince(cutAt)))
            print(Self.leaseEvents(a, label: "cut off") + "\n" + Self.leaseEvents(b, label: "standby") + "\ncut at \(cutAt)")
            #expect(stoppedAfter < 2.5, "node a acked \(stoppedAfter) s into the partition (lease 3 s, less its 0.5 s margin)")
            #expect(lastFromA.at < takenAt, "node a acked after node b took the lease: two leaders acking")
            #expect(epoch == 2)
            let stored = try await storedOnce(acks.map(\.id), in: database)
            #expect(stored.missing == 0 && stored.duplicated == 0, "\(stored)")
        }
    }
}
