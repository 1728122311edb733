import FeedProtocol
import FeedServer
import Foundation
import NIOCore
import Testing
import VigilCore
import VigilTesting

@Suite("Feed listener over real sockets")
struct FeedServerTests {
    @Test("every line is answered once, in arrival order, even when finished out of order")
    func orderedReplies() async throws {
        let sink = RecordingSink(.answerReversed(every: 7))
        try await withFeedServer(sink: sink) { port, _, _ in
            let ids = (0..<700).map { "tx-\($0)" }
            let replies = try await FeedClient.withConnection(host: "127.0.0.1", port: port) { connection in
                try await connection.send(lines: ids.map { validLine($0) })
                return try await connection.replies(count: ids.count)
            }
            #expect(replies.map(\.id) == ids)
            #expect(replies.allSatisfy { if case .ack(_, false) = $0 { true } else { false } })
        }
    }

    @Test("records the pipeline refuses get no reply; those handed over before them are answered; other connections go on")
    func refusedHandOver() async throws {
        let sink = RecordingSink(.refuse(account: "acc-refused"))
        try await withFeedServer(sink: sink) { port, _, _ in
            let lines = [validLine("a"), validLine("b"), validLine("c", account: "acc-refused"), validLine("d")]
            let replies = try await FeedClient.withConnection(host: "127.0.0.1", port: port) { connection in
                try await connection.send(lines: lines)
                return try await connection.replies(count: lines.count)  // fewer: the server closes the connection
            }
            #expect(replies.map(\.id) == ["a", "b"])
            #expect(!sink.records.contains { $0.transactionID == "d" })  // never handed over, never acked
            let next = try await FeedClient.withConnection(host: "127.0.0.1", port: port) { connection in
                try await connection.send(lines: [validLine("e")])
                return try await connection.replies(count: 1)
            }
            #expect(next.map(\.id) == ["e"])
        }
    }

    @Test("malformed lines are nacked with their code and the connection goes on")
    func malformed() async throws {
        let sink = RecordingSink(.answer)
        try await withFeedServer(sink: sink) { port, _, _ in
            let cases: [(String, String)] = [
                ("{not json", "invalid_json"),
                (#"{"id":"a1","timestamp":"2026-11-24T10:15:00Z","amount":"1.00","currency":"EUR","channel":"atm"}"#, "missing_field"),
                (validLine("a2", amount: "1.001"), "invalid_amount"),
                (validLine("a3", currency: "EUX"), "invalid_currency"),
                (validLine("a4", currency: "JPY").replacingOccurrences(of: "12.50", with: "12.5"), "invalid_amount"),
                (#"{"id":"a5","timestamp":"yesterday","account_id":"x","amount":"1.00","currency":"EUR","channel":"atm"}"#, "invalid_timestamp"),
                (
                    #"{"id":"a6","timestamp":"2026-11-24T10:15:00Z","account_id":"x","amount":"1.00","currency":"EUR","channel":"carrier_pigeon"}"#,
                    "unknown_channel"
                ),
            ]
            let replies = try await FeedClient.withConnection(host: "127.0.0.1", port: port) { connection in
                try await connection.send(lines: cases.map(\.0) + [validLine("ok-1")])
                return try await connection.replies(count: cases.count + 1)
            }
            #expect(replies.count == cases.count + 1)
            for (reply, expected) in zip(replies, cases) {
                guard case .nack(_, let code, let message) = reply else {
                    Issue.record("expected a nack \(expected.1), got \(reply)")
                    continue
                }
                #expect(code == expected.1)
                #expect(!message.isEmpty)
            }
            #expect(replies.last == .ack(id: "ok-1", duplicate: false))
        }
    }

    @Test("an over-long line is nacked line_too_long and the next line still works")
    func tooLong() async throws {
        let sink = RecordingSink(.answer)
        try await withFeedServer(sink: sink, configure: { $0.maximumLineLength = 1024 }) { port, _, _ in
            let huge = String(repeating: "x", count: 1 << 20)
            let replies = try await FeedClient.withConnection(host: "127.0.0.1", port: port) { connection in
                try await connection.send(lines: [validLine("before"), huge, validLine("after")])
                return try await connection.replies(count: 3)
            }
            #expect(replies.first == .ack(id: "before", duplicate: false))
            if case .nack(nil, let code, _) = replies[1] { #expect(code == "line_too_long") } else { Issue.record("got \(replies[1])") }
            #expect(replies.last == .ack(id: "after", duplicate: false))
            let stored = sink.records[1]
            #expect(stored.rawLine.count <= 4096)
        }
    }

    @Test("a connection dropped mid-line leaves no partial record")
    func droppedMidLine() async throws {
        let sink = RecordingSink(.answer)
        try await withFeedServer(sink: sink) { port, _, _ in
            try await FeedClient.withConnection(host: "127.0.0.1", port: port) { connection in
                let whole = validLine("whole") + "\n"
                let partial = String(validLine("partial").prefix(40))
                try await connection.send(bytes: Array((whole + partial).utf8))
                #expect(try await connection.nextReply() == .ack(id: "whole", duplicate: false))
                connection.finishSending()
                #expect(try await connection.nextReply() == nil)
            }
            #expect(sink.count == 1)
        }
    }

    @Test("a client that never reads its acks is not read from beyond the bound")
    func neverReadsAcks() async throws {
        let sink = RecordingSink(.answer)
        let capacity = 64
        try await withFeedServer(
            sink: sink,
            configure: {
                $0.maximumUnansweredPerConnection = capacity
                $0.socketSendBufferSize = 4096
            }
        ) { port, server, _ in
            try await FeedClient.withConnection(host: "127.0.0.1", port: port, receiveBufferSize: 4096) { connection in
                let chunk = Array((0..<1000).map { validLine("slow-\($0)") + "\n" }.joined().utf8)
                let writer = connection.writer
                let sender = Task {
                    for _ in 0..<200 { try await writer.send(bytes: chunk) }  // ~40 MB, far beyond socket buffers
                }
                // Once the acks fill the socket, `capacity` records stay unanswered and the
                // server reads no more, however much the client still has to send.
                #expect(await eventually(timeout: .seconds(30)) { server.unansweredRecords == capacity })
                let readSoFar = sink.count
                #expect(readSoFar < 20_000, "the server kept reading: \(readSoFar) records")
                // Whatever the kernel buffers let through later, unanswered records never exceed the bound.
                #expect(server.unansweredRecords <= capacity)
                sender.cancel()
                connection.channel.close(promise: nil)
                _ = try? await sender.value
            }
        }
    }

    @Test("a connection stuck on a full pipeline stops being read; other connections go on")
    func saturatedSinkIsolation() async throws {
        let sink = RecordingSink(.block(account: "stuck"))
        try await withFeedServer(sink: sink, configure: { $0.drainTimeout = .milliseconds(200) }) { port, _, _ in
            try await FeedClient.withConnection(host: "127.0.0.1", port: port) { stuck in
                try await stuck.send(lines: (0..<100).map { validLine("s-\($0)", account: "stuck") })
                #expect(await eventually { sink.count == 1 })
                let replies = try await FeedClient.withConnection(host: "127.0.0.1", port: port) { healthy in
                    try await healthy.send(lines: (0..<100).map { validLine("h-\($0)", account: "fine") })
                    return try await healthy.replies(count: 100)
                }
                #expect(replies.count == 100)
                // The stuck connection's reader still waits on its first record.
                #expect(sink.records.filter { if case .transaction(let tx) = $0.payload { tx.accountID == "stuck" } else { false } }.count == 1)
            }
        }
    }

    @Test("graceful shutdown answers every record already read, then closes the connection")
    func gracefulDrain() async throws {
        let sink = RecordingSink(.answerWhenReleased)
        try await withFeedServer(sink: sink) { port, _, group in
            try await FeedClient.withConnection(host: "127.0.0.1", port: port) { connection in
                try await connection.send(lines: (0..<50).map { validLine("g-\($0)") })
                #expect(await eventually { sink.count == 50 })
                // Shut down while all 50 are still waiting for their commit, then let it finish.
                await group.triggerGracefulShutdown()
                sink.release()
                let replies = try await connection.replies(count: 51)
                #expect(replies.count == 50)
                #expect(replies.map(\.id) == (0..<50).map { "g-\($0)" })
                #expect(try await connection.nextReply() == nil)
            }
        }
    }
}
