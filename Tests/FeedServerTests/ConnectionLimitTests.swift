import FeedProtocol
import Foundation
import NIOCore
import Testing
import VigilCore
import VigilTesting

@testable import FeedServer

@Suite("Feed listener limits: connection cap, idle timeout, line timeout")
struct ConnectionLimitTests {
    @Test("over the cap a connection gets one too_many_connections line and is closed; admitted ones keep working")
    func cap() async throws {
        let sink = RecordingSink(.answer)
        try await withFeedServer(sink: sink, configure: { $0.maximumConnections = 3 }) { port, server, _ in
            try await withConnections(3, port: port) { open in
                for (index, connection) in open.enumerated() {
                    try await connection.send(lines: [validLine("held-\(index)")])
                    #expect(try await connection.nextReply() == .ack(id: "held-\(index)", duplicate: false))
                }
                #expect(server.connectionCount == 3)

                let refused = try await FeedClient.withConnection(host: "127.0.0.1", port: port) { extra in
                    (try await extra.nextReply(), try await extra.nextReply())
                }
                guard case .nack(nil, "too_many_connections", let message) = refused.0 else {
                    Issue.record("expected a too_many_connections nack, got \(String(describing: refused.0))")
                    return
                }
                #expect(message.contains("3 connections"))
                #expect(refused.1 == nil, "the refused connection is closed after its one line")

                // The admitted connections are untouched by the refusal.
                try await open[0].send(lines: [validLine("after-refusal")])
                #expect(try await open[0].nextReply() == .ack(id: "after-refusal", duplicate: false))

                // A place freed is a place taken by the next client.
                try await open[2].channel.close()
                #expect(await eventually { server.connectionCount == 2 })
                let next = try await FeedClient.withConnection(host: "127.0.0.1", port: port) { fresh in
                    try await fresh.send(lines: [validLine("fresh")])
                    return try await fresh.nextReply()
                }
                #expect(next == .ack(id: "fresh", duplicate: false))
            }
            #expect(!sink.records.contains { if case .rejected = $0.payload { true } else { false } }, "a refusal is not a record")
        }
    }

    @Test("an idle connection is closed after the idle timeout; one waiting for its acks is not idle")
    func idle() async throws {
        let sink = RecordingSink(.answerWhenReleased)
        let idle = Duration.milliseconds(400)
        try await withFeedServer(
            sink: sink,
            configure: {
                $0.idleTimeout = idle
                $0.lineTimeout = nil
            }
        ) { port, server, _ in
            try await FeedClient.withConnection(host: "127.0.0.1", port: port) { waiting in
                try await waiting.send(lines: [validLine("owed")])
                #expect(await eventually { sink.count == 1 })

                // A connection that sends nothing: closed once the timeout has passed.
                let started = ContinuousClock.now
                let silent = try await FeedClient.withConnection(host: "127.0.0.1", port: port) { try await $0.nextReply() }
                let silentFor = ContinuousClock.now - started
                #expect(silent == nil)
                #expect(silentFor >= idle, "closed after \(silentFor)")

                // By now the first connection has sent nothing for longer than the timeout,
                // but it waits for an ack: it is still open.
                #expect(await eventually { server.connectionCount <= 1 })
                #expect(server.connectionCount == 1)

                sink.release()
                #expect(try await waiting.nextReply() == .ack(id: "owed", duplicate: false))
                let acked = ContinuousClock.now
                #expect(try await waiting.nextReply() == nil, "idle once nothing is owed")
                let quietFor = ContinuousClock.now - acked
                #expect(quietFor >= idle * 0.85, "closed \(quietFor) after its last ack")
            }
        }
    }

    @Test("a line not finished within the line timeout is nacked line_timeout after the replies owed, then the connection closes")
    func unfinishedLine() async throws {
        let sink = RecordingSink(.answer)
        let timeout = Duration.milliseconds(300)
        try await withFeedServer(
            sink: sink,
            configure: {
                $0.lineTimeout = timeout
                $0.idleTimeout = .seconds(30)
            }
        ) { port, _, _ in
            try await FeedClient.withConnection(host: "127.0.0.1", port: port) { connection in
                let partial = String(validLine("partial").prefix(40))
                let started = ContinuousClock.now
                try await connection.send(bytes: Array((validLine("whole") + "\n" + partial).utf8))
                #expect(try await connection.nextReply() == .ack(id: "whole", duplicate: false))
                let nack = try await connection.nextReply()
                let elapsed = ContinuousClock.now - started
                guard case .nack(nil, "line_timeout", let message) = nack else {
                    Issue.record("expected a line_timeout nack, got \(String(describing: nack))")
                    return
                }
                #expect(message.contains("40 bytes"))
                #expect(elapsed >= timeout, "nacked after \(elapsed)")
                #expect(try await connection.nextReply() == nil)
            }
            guard case .rejected(let rejection) = sink.records.last?.payload else {
                Issue.record("the timed-out line was not handed over as a rejected record")
                return
            }
            #expect(rejection.code == .lineTimeout)
        }
    }

    @Test("slow loris: a byte at a time keeps a connection busy but does not finish the line; the line timeout closes it")
    func slowLoris() async throws {
        let sink = RecordingSink(.answer)
        let timeout = Duration.milliseconds(300)
        try await withFeedServer(
            sink: sink,
            configure: {
                $0.lineTimeout = timeout
                $0.idleTimeout = .seconds(30)
            }
        ) { port, server, _ in
            let outcome = try await FeedClient.withConnection(host: "127.0.0.1", port: port) { connection in
                let writer = connection.writer
                let dripping = Task {
                    // The attack itself is timed: one byte every 50 ms, never a newline.
                    for byte in validLine("loris").utf8 {
                        do { try await writer.send(bytes: [byte]) } catch { return }
                        try? await Task.sleep(for: .milliseconds(50))
                    }
                }
                let started = ContinuousClock.now
                let reply = try await connection.nextReply()
                var closed: Bool
                do {
                    closed = try await connection.nextReply() == nil
                } catch let error as IOError where error.errnoCode == ECONNRESET {
                    closed = true  // a byte dripped in after the server closed: its kernel answers with a reset
                }
                dripping.cancel()
                return (reply, closed, ContinuousClock.now - started)
            }
            guard case .nack(nil, "line_timeout", _) = outcome.0 else {
                Issue.record("expected a line_timeout nack, got \(String(describing: outcome.0))")
                return
            }
            #expect(outcome.1, "closed after the nack")
            #expect(outcome.2 >= timeout && outcome.2 < .seconds(5), "closed after \(outcome.2)")
            #expect(await eventually { server.connectionCount == 0 })
        }
    }

    @Test("time the listener is not reading (a full pipeline) is not held against an unfinished line")
    func backpressureIsNotATimeout() async throws {
        let sink = RecordingSink(.answerWhenReleased)
        let timeout = Duration.milliseconds(300)
        try await withFeedServer(
            sink: sink,
            configure: {
                $0.lineTimeout = timeout
                $0.idleTimeout = timeout + .milliseconds(200)  // the clock of this test, on a second connection
                $0.maximumUnansweredPerConnection = 1
                $0.readBufferLowWatermark = 1
                $0.readBufferHighWatermark = 1
            }
        ) { port, _, _ in
            try await FeedClient.withConnection(host: "127.0.0.1", port: port) { busy in
                // r-1 is held by the pipeline, so r-2 waits for a place and the reader stops.
                try await busy.send(lines: [validLine("r-1"), validLine("r-2")])
                #expect(await eventually { sink.count == 1 })
                // One more read fills the listener's buffer: NIO stops reading, with the
                // first 30 bytes of r-4 seen.
                let r4 = validLine("r-4")
                try await busy.send(bytes: Array((validLine("r-3") + "\n" + r4.prefix(30)).utf8))

                // Wait out more than the line timeout: a second, silent connection is closed
                // for idleness after line timeout + 200 ms.
                let silent = try await FeedClient.withConnection(host: "127.0.0.1", port: port) { try await $0.nextReply() }
                #expect(silent == nil)
                // The rest of r-4 waits in the socket until the listener reads again.
                try await busy.send(bytes: Array((r4.dropFirst(30) + "\n").utf8))

                sink.release()
                let replies = try await busy.replies(count: 4)
                #expect(replies == ["r-1", "r-2", "r-3", "r-4"].map { .ack(id: $0, duplicate: false) })
            }
        }
    }

    @Test("a client that half-closes after a partial line still gets the acks it is owed, however long they take")
    func halfClosedWithPartialLine() async throws {
        let sink = RecordingSink(.answerWhenReleased)
        let timeout = Duration.milliseconds(200)
        try await withFeedServer(
            sink: sink,
            configure: {
                $0.lineTimeout = timeout
                $0.idleTimeout = .seconds(1)
            }
        ) { port, _, _ in
            try await FeedClient.withConnection(host: "127.0.0.1", port: port) { client in
                try await client.send(bytes: Array((validLine("owed") + "\n" + validLine("cut").prefix(25)).utf8))
                #expect(await eventually { sink.count == 1 })
                client.finishSending()
                // Well past the line timeout (and the close that would follow it): a silent
                // connection is closed for idleness after 1 s.
                let silent = try await FeedClient.withConnection(host: "127.0.0.1", port: port) { try await $0.nextReply() }
                #expect(silent == nil)
                sink.release()
                #expect(try await client.nextReply() == .ack(id: "owed", duplicate: false))
                #expect(try await client.nextReply() == nil)
            }
            #expect(sink.count == 1, "the cut line is dropped, not a record")
        }
    }
}

/// Opens `count` feed connections, runs `body` with them, closes them.
func withConnections<R: Sendable>(
    _ count: Int, port: Int, opened: [FeedClientConnection] = [], _ body: ([FeedClientConnection]) async throws -> R
) async throws -> R {
    if opened.count == count { return try await body(opened) }
    return try await FeedClient.withConnection(host: "127.0.0.1", port: port) { connection in
        try await withConnections(count, port: port, opened: opened + [connection], body)
    }
}

@Suite("Feed limits: the descriptor budget and the log throttle")
struct FeedLimitArithmeticTests {
    @Test(
        "the default cap leaves 128 and a tenth of the descriptor limit free",
        arguments: [
            (1_024, 794), (4_096, 3_559), (65_536, 58_855), (100, 1),
        ])
    func budget(limit: Int, expected: Int) {
        #expect(FileDescriptorBudget.defaultMaximumConnections(forLimit: limit) == expected)
        #expect(FileDescriptorBudget.defaultMaximumConnections(forLimit: limit) + FileDescriptorBudget.reserve(forLimit: limit) >= limit)
    }

    @Test("a repeated event is logged at once, then at most once per interval with the count it held back")
    func throttle() {
        var throttle = LogThrottle(interval: .seconds(10))
        let start = ContinuousClock.now
        #expect(throttle.record(at: start) == 0)
        #expect(throttle.record(at: start + .seconds(1)) == nil)
        #expect(throttle.record(at: start + .seconds(9)) == nil)
        #expect(throttle.record(at: start + .seconds(10)) == 2)
        #expect(throttle.record(at: start + .seconds(11)) == nil)
        #expect(throttle.record(at: start + .seconds(30)) == 1)
    }
}
