import FeedServer
import Foundation
import PostgresStore
import Synchronization
import Testing

#if canImport(Glibc)
import Glibc
import VigilTesting
#endif

extension FaultToleranceTests {
    @Test(
        "2. PostgreSQL connections killed again and again mid-stream: the run completes, nothing lost, memory bounded",
        .timeLimit(.minutes(3)))
    func postgresConnectionsKilled() async throws {
        try await ScratchDatabase.with("pgkill") { database in
            let count = 6_000
            let feed = try await GeneratedFeed.make(count: count, seed: 11, fraudRate: 5, into: database)
            // Every kill round restarts several children (writer, state loader, webhooks):
            // lost connections are not counted against the restart budget, so the default
            // budget (20 in 60 s) must ride out all seven rounds.
            let server = try await ServeProcess.start(database: database, name: "serve")
            defer { Task { await server.stop() } }
            let baseline = try #require(server.child.residentKiB)
            let rounds = Mutex(0)
            let terminated = Mutex(0)
            let peak = Mutex(baseline)
            let seen = try await PostgresConnection.withConnection(.fromEnvironment(applicationName: "vigil-fault-killer")) { admin in
                try await FeedStreaming.untilAllAcked(feed.lines, ids: feed.ids, port: server.feedPort) { acked in
                    let due = rounds.withLock { round -> Bool in
                        guard acked >= (round + 1) * 700, round < 7 else { return false }
                        round += 1
                        return true
                    }
                    guard due else { return }
                    if let n = try? await admin.query(
                        """
                        SELECT count(pg_terminate_backend(pid)) FROM pg_stat_activity
                        WHERE datname = \(database.name) AND application_name <> 'vigil-fault-tests' AND pid <> pg_backend_pid()
                        """
                    ).first?.decode(0, as: Int.self) {
                        terminated.withLock { $0 += n }
                    }
                    if let rss = server.child.residentKiB { peak.withLock { $0 = max($0, rss) } }
                }
            }
            #expect(server.child.isRunning, "the server must survive losing its connections:\n\(server.logTail)")
            #expect(rounds.withLock { $0 } >= 5)
            #expect(terminated.withLock { $0 } >= 5, "each round should have killed Vigil's connections")
            #expect(seen.count == count)
            let stored = try await storedOnce(feed.ids, in: database)
            #expect(stored.missing == 0 && stored.extra == 0 && stored.duplicated == 0, "\(stored)")
            #expect((server.metric("vigil_supervisor_restarts_total") ?? 0) >= 1, "the stages reconnect by being restarted")
            // Bounded: ingest waits on the writer (backpressure), it does not buffer the feed.
            let grown = peak.withLock { $0 } - baseline
            #expect(grown < 300 * 1024, "RSS grew by \(grown) KiB while PostgreSQL was being cut off")
            #expect(
                await eventually(timeout: .seconds(30), poll: .milliseconds(50)) { Network.get(port: server.opsPort, path: "/readyz")?.status == 200 }
            )
        }
    }

    @Test(
        "3. a stage that throws: restarted within its intensity and the run completes; past it the process exits non-zero",
        .timeLimit(.minutes(3)))
    func stageThrows() async throws {
        try await ScratchDatabase.with("throws") { database in
            let count = 2_000
            let feed = try await GeneratedFeed.make(count: count, seed: 13, fraudRate: 5, into: database)
            let server = try await ServeProcess.start(database: database, name: "within", environment: ["VIGIL_TEST_FAULTS": "writer=3,detect=3"])
            let seen = try await FeedStreaming.untilAllAcked(feed.lines, ids: feed.ids, port: server.feedPort, timeout: .seconds(60))
            #expect(seen.count == count)
            #expect(server.child.isRunning)
            #expect((server.metric("vigil_supervisor_restarts_total") ?? 0) >= 6, "three writer and three detection restarts")
            let stored = try await storedOnce(feed.ids, in: database)
            #expect(stored.missing == 0 && stored.extra == 0 && stored.duplicated == 0, "\(stored)")
            server.child.kill(SIGTERM)
            #expect(await server.child.waitForExit(timeout: .seconds(40)) == 0)
        }
        try await ScratchDatabase.with("escalates") { database in
            let server = try await ServeProcess.start(
                database: database, name: "beyond", extra: ["--max-restarts", "2", "--restart-period", "60", "--shutdown-timeout", "30"],
                environment: ["VIGIL_TEST_FAULTS": "writer=always"]
            )
            defer { Task { await server.stop() } }
            let lines = (0..<50).map { validLine("esc-\($0)", account: "acc-\($0 % 5)") }
            let started = ContinuousClock.now
            let client = Task { await FeedStreaming.once(lines, port: server.feedPort) }
            // Backoff 100 + 200 ms, the third failure is over the limit. The feed holds a
            // connection waiting for acks that will never come: it must give up on them
            // at once, not after --shutdown-timeout.
            let status = await server.child.waitForExit(timeout: .seconds(30))
            let replies = await client.value.replies
            #expect(status != nil && status != 0, "expected a non-zero exit within 30 s, got \(String(describing: status)):\n\(server.logTail)")
            #expect(ContinuousClock.now - started < .seconds(15), "escalation to exit took \(ContinuousClock.now - started)")
            #expect(replies.allSatisfy { if case .ack = $0 { false } else { true } }, "nothing may be acked that was not stored")
            #expect(try await database.count("SELECT count(*) FROM transactions") == 0)
        }
    }
}
