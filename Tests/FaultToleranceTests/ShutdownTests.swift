import FeedServer
import Foundation
import Synchronization
import Testing

#if canImport(Glibc)
import Glibc
#endif

extension FaultToleranceTests {
    @Test(
        "7. SIGTERM under load: exits 0 in time; each record acked or not stored; re-sent stored records are duplicates",
        .timeLimit(.minutes(3)))
    func gracefulShutdownUnderLoad() async throws {
        try await ScratchDatabase.with("term") { database in
            // 10,000 records a connection and at most 256 unanswered each, the signal after
            // the first 500 acks: when it comes, much of the feed is still unread in the
            // sockets (the server stores about 50,000 a second).
            let count = 40_000
            let connections = 4
            let feed = try await GeneratedFeed.make(count: count, seed: 29, fraudRate: 5, into: database)
            let shutdownTimeout = 10
            let server = try await ServeProcess.start(
                database: database, name: "serve", extra: ["--shutdown-timeout", "\(shutdownTimeout)", "--max-unanswered", "256"])
            defer { Task { await server.stop() } }

            let total = Shared(0)
            let signalled = Shared<ContinuousClock.Instant?>(nil)
            let parts = (0..<connections).map { c in Array(stride(from: c, to: count, by: connections)) }
            let results = await withTaskGroup(of: ([Int], [FeedAcknowledgement]).self) { group in
                for indices in parts {
                    group.addTask {
                        let outcome = await FeedStreaming.once(indices.map { feed.lines[$0] }, port: server.feedPort) { _ in
                            let n = total.withLock {
                                $0 += 1
                                return $0
                            }
                            if n == 500 {
                                signalled.withLock { $0 = .now }
                                server.child.kill(SIGTERM)
                            }
                        }
                        return (indices, outcome.replies)
                    }
                }
                var all: [([Int], [FeedAcknowledgement])] = []
                for await part in group { all.append(part) }
                return all
            }
            let status = await server.child.waitForExit(timeout: .seconds(shutdownTimeout + 20))
            let sentAt = try #require(signalled.withLock { $0 }, "the load should have reached the signal point")
            let took = ContinuousClock.now - sentAt
            #expect(status == 0, "exit status after SIGTERM:\n\(server.logTail)")
            #expect(took < .seconds(shutdownTimeout + 5), "shutdown took \(took)")

            var acked = Set<String>()
            var unacked: [Int] = []
            for (indices, replies) in results {
                for (position, index) in indices.enumerated() {
                    if position < replies.count, case .ack = replies[position] { acked.insert(feed.ids[index]) } else { unacked.append(index) }
                }
            }
            #expect(!acked.isEmpty && !unacked.isEmpty, "the signal should land mid-stream (acked \(acked.count))")
            let storedBefore = Set(try await database.strings("SELECT id FROM transactions"))
            #expect(acked.isSubset(of: storedBefore), "\(acked.subtracting(storedBefore).count) acked records are not stored")
            #expect(storedBefore.isSubset(of: Set(feed.ids)))

            // The client re-sends everything not acked to a new server.
            let next = try await server.restart(name: "after-term")
            defer { Task { await next.stop() } }
            let resend = unacked.sorted()
            let seen = try await FeedStreaming.untilAllAcked(resend.map { feed.lines[$0] }, ids: resend.map { feed.ids[$0] }, port: next.feedPort)
            for index in resend {
                let id = feed.ids[index]
                guard let first = seen[id]?.first, case .ack(_, let duplicate) = first else {
                    Issue.record("\(id): \(String(describing: seen[id]))")
                    continue
                }
                #expect(duplicate == storedBefore.contains(id), "\(id): duplicate \(duplicate), stored before restart \(storedBefore.contains(id))")
            }
            let stored = try await storedOnce(feed.ids, in: database)
            #expect(stored.missing == 0 && stored.extra == 0 && stored.duplicated == 0, "\(stored)")
            next.child.kill(SIGTERM)
            #expect(await next.child.waitForExit(timeout: .seconds(30)) == 0)
        }
    }
}
