import FeedServer
import Foundation
import Synchronization
import Testing
import VigilTesting

extension FaultToleranceTests {
    @Test(
        "5. 1,000 connections opening and closing plus clients that never read their acks: RSS bounded, others unaffected",
        .timeLimit(.minutes(3)))
    func connectionChurnAndSlowReaders() async throws {
        try await ScratchDatabase.with("churn") { database in
            let server = try await ServeProcess.start(database: database, name: "serve", extra: ["--max-unanswered", "512"])
            defer { Task { await server.stop() } }
            // Warm up (pools, caches, first batches) before the baseline.
            let warm = (0..<500).map { validLine("warm-\($0)", account: "acc-\($0 % 20)") }
            _ = try await FeedStreaming.untilAllAcked(warm, ids: warm.indices.map { "warm-\($0)" }, port: server.feedPort)
            let baseline = try #require(server.child.residentKiB)

            // Slow readers: send a lot, never read a reply, stay connected until the end.
            let release = Shared(false)
            let slowReaders = (0..<4).map { s in
                Task {
                    try await FeedClient.withConnection(host: "127.0.0.1", port: server.feedPort, receiveBufferSize: 4096) { connection in
                        let writer = connection.writer
                        var payload: [UInt8] = []
                        for i in 0..<20_000 { payload += Array(validLine("slow-\(s)-\(i)", account: "acc-slow-\(s)").utf8) + [10] }
                        let bytes = payload
                        let sender = Task { try await writer.send(bytes: bytes) }
                        _ = await eventually(timeout: .seconds(150), poll: .milliseconds(100)) { release.withLock { $0 } }
                        sender.cancel()
                    }
                }
            }

            // Churn: 1,000 connections in waves of 50, each doing something short and rude.
            let churn = Task {
                for wave in 0..<20 {
                    await withTaskGroup(of: Void.self) { group in
                        for k in 0..<50 {
                            let n = wave * 50 + k
                            group.addTask {
                                _ = try? await FeedClient.withConnection(host: "127.0.0.1", port: server.feedPort) { connection in
                                    switch n % 4 {
                                    case 0: break  // open, close
                                    case 1: try await connection.send(bytes: Array(#"{"id":"half-"#.utf8))  // half a line, close
                                    case 2: try await connection.send(lines: [validLine("churn-\(n)", account: "acc-churn")])  // never read the ack
                                    default:
                                        try await connection.send(lines: [validLine("churn-\(n)", account: "acc-churn")])
                                        _ = try await connection.nextReply()
                                    }
                                }
                            }
                        }
                    }
                }
            }

            // A well-behaved client meanwhile: all its records acked, promptly.
            let good = (0..<3_000).map { validLine("good-\($0)", account: "acc-good-\($0 % 10)") }
            let goodIDs = good.indices.map { "good-\($0)" }
            let started = ContinuousClock.now
            let seen = try await FeedStreaming.untilAllAcked(good, ids: goodIDs, port: server.feedPort, timeout: .seconds(60))
            let goodTook = ContinuousClock.now - started
            await churn.value
            let peak = try #require(server.child.residentKiB)

            #expect(seen.count == good.count)
            #expect(goodTook < .seconds(60))
            let stored = try await storedOnce(goodIDs, in: database, prefix: "good-")
            #expect(stored.missing == 0 && stored.extra == 0 && stored.duplicated == 0, "\(stored)")
            // Every churn client that sent a whole line had it stored or not at all; never twice.
            #expect(try await database.count("SELECT count(*) FROM transactions WHERE id LIKE 'churn-%'") <= 500)
            #expect(try await database.count("SELECT count(*) - count(DISTINCT id) FROM transactions") == 0)
            let grown = peak - baseline
            #expect(grown < 200 * 1024, "RSS grew by \(grown) KiB (baseline \(baseline) KiB)")
            // The churned connections are gone; only the slow readers remain open.
            #expect(
                await eventually(timeout: .seconds(20), poll: .milliseconds(50)) { (server.metric("vigil_feed_connections") ?? 999) <= 4 },
                "open feed connections: \(String(describing: server.metric("vigil_feed_connections")))")
            #expect(server.child.isRunning)
            #expect(Network.get(port: server.opsPort, path: "/healthz")?.status == 200)

            release.withLock { $0 = true }
            for reader in slowReaders { _ = try? await reader.value }
            #expect(await eventually(timeout: .seconds(20), poll: .milliseconds(50)) { (server.metric("vigil_feed_connections") ?? 999) == 0 })
            let after = await FeedStreaming.once([validLine("after-churn", account: "acc-1")], port: server.feedPort)
            #expect(after.replies == [.ack(id: "after-churn", duplicate: false)])
        }
    }
}
