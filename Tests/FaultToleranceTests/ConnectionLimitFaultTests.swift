import FeedServer
import Foundation
import Testing
import VigilTesting

extension FaultToleranceTests {
    @Test(
        "12a. 1,100 connections under ulimit -n 1024: those over the cap get too_many_connections; the rest and the ops port keep working",
        .timeLimit(.minutes(3)))
    func connectionCapUnderDescriptorLimit() async throws {
        let attempts = 1_100
        let descriptorLimit = 1_024
        try #require(RawSockets.raiseOpenFileLimit(to: attempts + 512) >= attempts + 256, "the test itself needs ~1,400 descriptors; raise ulimit -n")
        try await ScratchDatabase.with("fdcap") { database in
            let server = try await ServeProcess.start(database: database, name: "serve", openFileLimit: descriptorLimit)
            defer { Task { await server.stop() } }
            let cap = try #require(server.metric("vigil_feed_max_connections").map { Int($0) })
            let baseline = openDescriptors(pid: server.child.pid) ?? -1
            #expect(cap == FileDescriptorBudget.defaultMaximumConnections(forLimit: descriptorLimit))
            #expect(cap < attempts)

            let sockets = RawSockets()
            defer { sockets.closeAll() }
            let started = ContinuousClock.now
            for _ in 0..<attempts { sockets.connect(port: server.feedPort) }
            let connectTime = ContinuousClock.now - started
            #expect(sockets.descriptors.count == attempts, "connect() failed for \(attempts - sockets.descriptors.count)")

            // The refused ones are answered at once; the admitted ones hear nothing.
            var refusedFDs = Set<Int32>()
            _ = await eventually(timeout: .seconds(20), poll: .milliseconds(20)) {
                refusedFDs = sockets.readable(within: .milliseconds(200))
                return refusedFDs.count >= attempts - cap
            }
            let refusedTime = ContinuousClock.now - started
            var badRefusals: [String] = []
            for fd in refusedFDs {
                let (text, closed) = sockets.readToEnd(fd)
                guard closed, text.hasPrefix(#"{"nack":null,"error":"too_many_connections","message":""#), text.hasSuffix("}\n") else {
                    badRefusals.append(text)
                    continue
                }
                sockets.close(fd)
            }
            #expect(badRefusals.isEmpty, "refusals not as expected: \(badRefusals.prefix(3))")
            let admitted = sockets.descriptors.count
            #expect(refusedFDs.count == attempts - cap && admitted == cap, "refused \(refusedFDs.count), admitted \(admitted), cap \(cap)")
            let peak = openDescriptors(pid: server.child.pid) ?? -1

            // At the cap the ops port answers.
            let opsStarted = ContinuousClock.now
            let health = Network.get(port: server.opsPort, path: "/healthz")
            let ready = Network.get(port: server.opsPort, path: "/readyz")
            let opsTime = ContinuousClock.now - opsStarted
            #expect(health?.status == 200 && ready?.status == 200, "healthz \(String(describing: health)), readyz \(String(describing: ready))")
            #expect(server.metric("vigil_feed_connections") == Double(cap))
            #expect(server.metric("vigil_feed_connections_refused_total") == Double(attempts - cap))

            // An admitted connection still gets its acks.
            let held = try #require(sockets.descriptors.first)
            let reply = sockets.exchange(held, line: validLine("fd-held", account: "acc-fd"))
            #expect(reply?.hasPrefix(#"{"ack":"fd-held","decision":"allow""#) == true, "\(reply ?? "no reply")")

            // A new client over the cap is refused; once some close, one gets in and is acked.
            let overCap = try await FeedClient.withConnection(host: "127.0.0.1", port: server.feedPort) { try await $0.nextReply() }
            if case .nack(nil, "too_many_connections", _) = overCap {} else { Issue.record("over the cap: \(String(describing: overCap))") }
            sockets.close(last: 10)
            #expect(
                await eventually(timeout: .seconds(10), poll: .milliseconds(50)) {
                    server.metric("vigil_feed_connections").map { $0 <= Double(cap - 10) } ?? false
                })
            let fresh = try await FeedClient.withConnection(host: "127.0.0.1", port: server.feedPort) { connection in
                try await connection.send(lines: [validLine("fd-fresh", account: "acc-fd")])
                return try await connection.nextReply()
            }
            #expect(fresh == .ack(id: "fd-fresh", duplicate: false))

            let refusalLines = server.child.log.components(separatedBy: "refusing feed connections").count - 1
            #expect((1...3).contains(refusalLines), "refusals are logged, throttled: \(refusalLines) lines")
            print(
                """
                fd-limit cap: ulimit -n \(descriptorLimit) -> max-connections \(cap) (reserve \(descriptorLimit - cap)); \
                \(attempts) connections in \(connectTime): \(admitted) admitted, \(refusedFDs.count) refused (all answered after \(refusedTime)); \
                server descriptors \(baseline) idle, \(peak) at the cap; /healthz + /readyz at the cap in \(opsTime); \
                \(refusalLines) refusal log line(s)
                """)
        }
    }

    @Test(
        "12b. --max-connections above the descriptor limit: accept fails (EMFILE), is logged and counted, the listener backs off and recovers",
        .timeLimit(.minutes(3)))
    func acceptErrorsUnderDescriptorLimit() async throws {
        let attempts = 1_100
        let descriptorLimit = 1_024
        try #require(RawSockets.raiseOpenFileLimit(to: attempts + 512) >= attempts + 256, "the test itself needs ~1,400 descriptors; raise ulimit -n")
        try await ScratchDatabase.with("fdaccept") { database in
            let server = try await ServeProcess.start(
                database: database, name: "serve", extra: ["--max-connections", "5000"],
                openFileLimit: descriptorLimit)
            defer { Task { await server.stop() } }
            #expect(server.child.log.contains("--max-connections is above what the file-descriptor limit leaves"))

            let sockets = RawSockets()
            defer { sockets.closeAll() }
            let started = ContinuousClock.now
            for _ in 0..<attempts { sockets.connect(port: server.feedPort) }
            let failing = await eventually(timeout: .seconds(20), poll: .milliseconds(50)) {
                server.child.log.contains("feed cannot accept connections")
            }
            #expect(failing, "no accept error logged with \(sockets.descriptors.count) connections open:\n\(server.logTail)")
            let atLimit = openDescriptors(pid: server.child.pid) ?? -1

            // Out of descriptors, the listener must not spin. CPU is measured over an
            // attempt at /healthz, which is what the cap exists to protect: with no
            // descriptor left the ops port cannot accept either, and the request waits in
            // its backlog (2 s at most).
            let cpuBefore = cpuTime(pid: server.child.pid) ?? .zero
            let window = ContinuousClock.now
            let healthWhileOut = Network.get(port: server.opsPort, path: "/healthz")
            let measured = ContinuousClock.now - window
            let cpuShare = ((cpuTime(pid: server.child.pid) ?? .zero) - cpuBefore) / measured
            // (CPU time is counted in 10 ms ticks: a window much shorter than a second says nothing.)
            if measured >= .milliseconds(500) { #expect(cpuShare < 0.5, "CPU \(cpuShare) of a core over \(measured) while out of descriptors") }

            // Free some descriptors: the listener accepts again, the ops port answers, acks flow.
            sockets.close(last: 300)
            let recovered = await eventually(timeout: .seconds(20), poll: .milliseconds(50)) {
                Network.get(port: server.opsPort, path: "/healthz")?.status == 200
            }
            #expect(recovered, "/healthz did not answer after descriptors were freed")
            let errors = server.metric("vigil_feed_accept_errors_total") ?? 0
            #expect(errors >= 1)
            let fresh = try await FeedClient.withConnection(host: "127.0.0.1", port: server.feedPort) { connection in
                try await connection.send(lines: [validLine("fd-after", account: "acc-fd")])
                return try await connection.nextReply()
            }
            #expect(fresh == .ack(id: "fd-after", duplicate: false))
            let errorLines = server.child.log.components(separatedBy: "feed cannot accept connections").count - 1
            #expect(
                errorLines <= 1 + Int((ContinuousClock.now - started) / .seconds(10)) + 1, "accept errors are logged throttled: \(errorLines) lines")
            print(
                """
                fd-limit accept errors: ulimit -n \(descriptorLimit), --max-connections 5000, \(attempts) connections: \
                server at \(atLimit) descriptors, \(Int(errors)) failed accepts counted, \(errorLines) log line(s), \
                CPU \(String(format: "%.0f", cpuShare * 100)) % of a core while out of descriptors \
                (/healthz meanwhile: \(healthWhileOut.map { "\($0.status)" } ?? "no answer")), recovered after closing 300
                """)
        }
    }
}
