import Foundation
import PostgresStore
import Synchronization
import Testing
import VigilTesting

extension FaultToleranceTests {
    @Test(
        "12c. PostgreSQL stopped for 20 s under load, then restarted: serve stays up, /readyz 503 then 200, every acked id stored once",
        .timeLimit(.minutes(4)))
    func postgresOutageUnderLoad() async throws {
        let cluster = try PrivateCluster.start(label: "outage")
        defer { cluster.remove() }
        try await ScratchDatabase.with("outage", cluster: cluster) { database in
            let count = 8_000
            let feed = try await GeneratedFeed.make(count: count, seed: 23, fraudRate: 5, into: database)
            // The default restart budget (20 in 60 s): an outage must not spend it.
            let server = try await ServeProcess.start(database: database, name: "serve")
            defer { Task { await server.stop() } }
            let acked = Shared(0)
            let streaming = Task {
                try await FeedStreaming.untilAllAcked(feed.lines, ids: feed.ids, port: server.feedPort, timeout: .seconds(150)) { n in
                    acked.withLock { $0 = max($0, n) }
                }
            }
            #expect(
                await eventually(timeout: .seconds(60), poll: .milliseconds(50)) { acked.withLock { $0 } >= 2_000 },
                "the feed did not get going:\n\(server.logTail)")

            try cluster.stopImmediately()
            let stoppedAt = ContinuousClock.now
            let ackedAtStop = acked.withLock { $0 }
            let notReady = await eventually(timeout: .seconds(10), poll: .milliseconds(50)) {
                Network.get(port: server.opsPort, path: "/readyz")?.status == 503
            }
            let timeToNotReady = ContinuousClock.now - stoppedAt
            #expect(notReady, "/readyz must say 503 while PostgreSQL is down")
            let readyBody = Network.get(port: server.opsPort, path: "/readyz")?.body ?? ""
            #expect(readyBody.contains("\"not_ready\"") && readyBody.contains("PostgreSQL"), "readyz body: \(readyBody)")
            // Twenty seconds of outage, watched: the process lives and /healthz stays 200.
            var healthSamples = 0
            var healthOK = 0
            while ContinuousClock.now - stoppedAt < .seconds(20) {
                healthSamples += 1
                if Network.get(port: server.opsPort, path: "/healthz")?.status == 200 { healthOK += 1 }
                #expect(server.child.isRunning, "vigil serve died during the outage:\n\(server.logTail)")
                try await Task.sleep(for: .milliseconds(500))  // sampling interval of the watch, not a wait for a condition
            }
            let ackedDuringOutage = acked.withLock { $0 } - ackedAtStop
            #expect(healthOK == healthSamples, "/healthz answered 200 \(healthOK) of \(healthSamples) times during the outage")

            try cluster.start()
            let restartedAt = ContinuousClock.now
            let readyAgain = await eventually(timeout: .seconds(30), poll: .milliseconds(50)) {
                Network.get(port: server.opsPort, path: "/readyz")?.status == 200
            }
            let timeToReady = ContinuousClock.now - restartedAt
            #expect(readyAgain, "/readyz must come back once PostgreSQL does:\n\(server.logTail)")
            let seen = try await streaming.value
            let finishedAfter = ContinuousClock.now - restartedAt
            #expect(seen.count == count)
            #expect(server.child.isRunning)
            let stored = try await storedOnce(feed.ids, in: database)
            #expect(stored.missing == 0 && stored.extra == 0 && stored.duplicated == 0, "\(stored)")
            print(
                """
                outage: acked before stop \(ackedAtStop)/\(count); /readyz 503 after \(timeToNotReady); \
                acked during the 20 s outage \(ackedDuringOutage); /healthz 200 in \(healthOK)/\(healthSamples) samples; \
                /readyz 200 \(timeToReady) after restart; all \(count) acked \(finishedAfter) after restart; \
                stored once: missing \(stored.missing), extra \(stored.extra), duplicated \(stored.duplicated); \
                supervisor restarts \(Int(server.metric("vigil_supervisor_restarts_total") ?? 0))
                """)
        }
    }

    @Test(
        "12d. serve started before PostgreSQL waits not ready, says what it waits for, and starts when it comes",
        .timeLimit(.minutes(3)))
    func serveStartedBeforePostgres() async throws {
        let cluster = try PrivateCluster.start(label: "late-db")
        defer { cluster.remove() }
        try await ScratchDatabase.with("latedb", cluster: cluster) { database in
            try cluster.stopImmediately()
            let server = try await ServeProcess.start(database: database, name: "serve", waitReady: false)
            defer { Task { await server.stop() } }
            let answering = await eventually(timeout: .seconds(30), poll: .milliseconds(50)) {
                Network.get(port: server.opsPort, path: "/healthz")?.status == 200
            }
            #expect(answering, "the ops endpoint must answer while the database is down:\n\(server.logTail)")
            let ready = Network.get(port: server.opsPort, path: "/readyz")
            #expect(ready?.status == 503)
            #expect(ready?.body.contains("waiting for PostgreSQL") == true, "readyz: \(String(describing: ready))")
            #expect(
                await eventually(timeout: .seconds(10), poll: .milliseconds(50)) { server.child.log.contains("waiting for PostgreSQL") },
                "log:\n\(server.logTail)")
            #expect(server.child.isRunning)
            // A sender connects meanwhile: its records wait (backpressure) and are acked once the database is there.
            let lines = (0..<20).map { validLine("early-\($0)", account: "acc-early-\($0 % 3)") }
            let sending = Task {
                try await FeedStreaming.untilAllAcked(lines, ids: lines.indices.map { "early-\($0)" }, port: server.feedPort, timeout: .seconds(60))
            }
            try cluster.start()
            let started = ContinuousClock.now
            #expect(
                await eventually(timeout: .seconds(30), poll: .milliseconds(50)) {
                    Network.get(port: server.opsPort, path: "/readyz")?.status == 200
                }, "log:\n\(server.logTail)")
            let seen = try await sending.value
            print("serve before PostgreSQL: ready \(ContinuousClock.now - started) after the database started; \(seen.count) early records acked")
            #expect(seen.count == 20)
            let stored = try await storedOnce(lines.indices.map { "early-\($0)" }, in: database)
            #expect(stored.missing == 0 && stored.extra == 0 && stored.duplicated == 0, "\(stored)")
        }
    }

    @Test("12e. a database schema behind the binary ends serve with the fix in the message", .timeLimit(.minutes(2)))
    func schemaBehindExits() async throws {
        try await ScratchDatabase.with("behind") { database in
            let schemas = database.folder.appendingPathComponent("schemas")
            try FileManager.default.copyItem(at: VigilProcess.repositoryRoot.appendingPathComponent("Schemas"), to: schemas)
            try "SELECT 1;\n".write(to: schemas.appendingPathComponent("0999_future.sql"), atomically: true, encoding: .utf8)
            let server = try await ServeProcess.start(
                database: database, name: "serve", environment: ["VIGIL_SCHEMAS": schemas.path], waitReady: false)
            defer { Task { await server.stop() } }
            let status = await server.child.waitForExit(timeout: .seconds(30))
            #expect(status != nil && status != 0)
            #expect(server.child.log.contains("migration(s) behind") && server.child.log.contains("vigil migrate"), "log:\n\(server.logTail)")
        }
    }
}
