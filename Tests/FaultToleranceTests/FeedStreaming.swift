import FeedServer
import Foundation
import Synchronization

/// Replies read so far on one connection (kept when the connection dies mid-way).
final class ReplyLog: Sendable {
    private let replies = Mutex<[FeedAcknowledgement]>([])
    func append(_ reply: FeedAcknowledgement) -> Int {
        replies.withLock {
            $0.append(reply)
            return $0.count
        }
    }
    var all: [FeedAcknowledgement] { replies.withLock { $0 } }
}

enum FeedStreaming {
    /// Sends `lines` on one connection while reading the replies (in order, one per
    /// line). Returns what was read before the end, and the error that ended it, if any:
    /// a server killed mid-stream is an expected outcome here, not a test failure.
    static func once(
        _ lines: [String], port: Int, onReply: @Sendable (Int) async -> Void = { _ in }
    ) async -> (replies: [FeedAcknowledgement], error: (any Error)?) {
        let log = ReplyLog()
        do {
            try await FeedClient.withConnection(host: "127.0.0.1", port: port) { connection in
                let writer = connection.writer
                var payload: [UInt8] = []
                for line in lines {
                    payload.append(contentsOf: line.utf8)
                    payload.append(10)
                }
                let bytes = payload
                let sender = Task { try await writer.send(bytes: bytes) }
                defer { sender.cancel() }
                var count = 0
                while count < lines.count, let reply = try await connection.nextReply() {
                    count = log.append(reply)
                    await onReply(count)
                }
                _ = try? await sender.value
            }
        } catch {
            return (log.all, error)
        }
        return (log.all, nil)
    }

    /// A client that keeps re-sending whatever has not been acked yet (reconnecting
    /// while the server is down) until every line is acked or `timeout` passes.
    /// Returns every reply seen per id, in the order seen.
    static func untilAllAcked(
        _ lines: [String], ids: [String], port: Int, timeout: Duration = .seconds(90),
        onAcked: @Sendable (Int) async -> Void = { _ in }
    ) async throws -> [String: [FeedAcknowledgement]] {
        let deadline = ContinuousClock.now + timeout
        var seen: [String: [FeedAcknowledgement]] = [:]
        var pending = Array(lines.indices)
        var ackedTotal = 0
        while !pending.isEmpty {
            guard ContinuousClock.now < deadline else {
                throw FaultTestError("\(pending.count) of \(lines.count) lines still unacked after \(timeout)")
            }
            let batch = pending.map { lines[$0] }
            let base = ackedTotal
            let (replies, error) = await once(batch, port: port) { n in await onAcked(base + n) }
            var stillPending: [Int] = []
            for (position, index) in pending.enumerated() {
                guard position < replies.count else {
                    stillPending.append(index)
                    continue
                }
                let reply = replies[position]
                seen[ids[index], default: []].append(reply)
                if case .ack = reply { ackedTotal += 1 } else { stillPending.append(index) }
                if case .nack(_, let code, let message) = reply, code != "storage_refused" {
                    throw FaultTestError("valid line \(ids[index]) nacked: \(code) \(message)")
                }
            }
            pending = stillPending
            if error != nil || !pending.isEmpty { try await Task.sleep(for: .milliseconds(100)) }
        }
        return seen
    }
}
