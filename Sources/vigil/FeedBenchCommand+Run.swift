import FeedGenerator
import NIOCore
import NIOPosix
import Supervision
import Synchronization

/// What a whole run measured.
struct BenchResult: Sendable {
    var stats = BenchStats()
    /// Records generated (open loop: every record of the timetable).
    var generated = 0
    /// Why connections failed, if any did.
    var connectionErrors: [String] = []
    /// From the start of sending to the last connection's end, in ns.
    var elapsedNanos: UInt64 = 0
}

/// Runs the producer and one task per connection, all bounded by the plan's hard stop.
struct BenchRun: Sendable {
    let plan: BenchPlan

    /// Time given to connect and to let the producer run ahead before the timetable starts.
    static let startDelayNanos: UInt64 = 300_000_000

    private enum Outcome: Sendable {
        case produced(Int)
        case connection(BenchStats, String?)
    }

    func run(generator: FeedGenerator) async -> BenchResult {
        let capacity = plan.rate == nil ? 16 : 1024
        let mailboxes = (0..<plan.connections).map { _ in Mailbox<BenchChunk>(capacity: capacity) }
        let t0 = benchNow() + Self.startDelayNanos
        var result = BenchResult()
        await withTaskGroup(of: Outcome.self) { group in
            let plan = self.plan
            group.addTask {
                .produced(await BenchProducer(plan: plan, mailboxes: mailboxes).run(generator: generator))
            }
            for mailbox in mailboxes {
                group.addTask {
                    defer { mailbox.finish() }
                    let connection = BenchConnection(plan: plan, mailbox: mailbox, t0: t0)
                    do {
                        return .connection(try await connection.run(), nil)
                    } catch {
                        return .connection(BenchStats(), "\(error)")
                    }
                }
            }
            var open = plan.connections
            while let outcome = await group.next() {
                switch outcome {
                case .produced(let count):
                    result.generated = count
                case .connection(let stats, let error):
                    result.stats.merge(stats)
                    if let error { result.connectionErrors.append(error) }
                    open -= 1
                    if open == 0 {
                        result.elapsedNanos = benchNow() &- t0
                        group.cancelAll()
                    }
                }
            }
        }
        return result
    }
}

/// One feed connection of a run: open loop (two tasks: a sender on the timetable and a
/// reply reader) or closed loop (one task alternating between topping up the window and
/// reading replies).
struct BenchConnection: Sendable {
    let plan: BenchPlan
    let mailbox: Mailbox<BenchChunk>
    let t0: UInt64

    /// Send times of unanswered records, shared by the sender and the reader (open loop).
    final class Shared: Sendable {
        let state = Mutex<(queue: BenchTimeQueue, senderDone: Bool)>((BenchTimeQueue(capacity: 4096), false))
    }

    func run() async throws -> BenchStats {
        let channel = try await ClientBootstrap(group: MultiThreadedEventLoopGroup.singleton)
            .channelOption(.socketOption(.tcp_nodelay), value: 1)
            .channelOption(.allowRemoteHalfClosure, value: true)
            .connect(host: plan.host, port: plan.port) { [plan] channel in
                channel.eventLoop.makeCompletedFuture {
                    try plan.tls?.addHandler(to: channel, host: plan.host)
                    return try NIOAsyncChannel<ByteBuffer, ByteBuffer>(
                        wrappingChannelSynchronously: channel,
                        configuration: .init(isOutboundHalfClosureEnabled: true)
                    )
                }
            }
        let raw = channel.channel
        let plan = self.plan
        let t0 = self.t0
        // Whatever happens, the connection is closed at the hard stop, which ends its reads.
        let stopper = Task {
            try await Self.sleep(until: t0 + plan.hardStop)
            raw.close(promise: nil)
        }
        defer { stopper.cancel() }
        return try await channel.executeThenClose { inbound, outbound in
            try await Self.sleep(until: t0)
            if plan.rate == nil {
                return try await closedLoop(inbound: inbound, outbound: outbound)
            }
            let shared = Shared()
            return try await withThrowingTaskGroup(of: BenchStats.self) { group in
                group.addTask { try await sendOnTimetable(outbound: outbound, shared: shared) }
                group.addTask { try await readReplies(inbound: inbound, shared: shared) }
                var total = BenchStats()
                while let part = try await group.next() { total.merge(part) }
                return total
            }
        }
    }

    /// Open loop: sends each record at its scheduled time (or, when late, at once with the
    /// others due), never waiting for replies.
    private func sendOnTimetable(outbound: NIOAsyncChannelOutboundWriter<ByteBuffer>, shared: Shared) async throws -> BenchStats {
        var stats = BenchStats()
        defer {
            outbound.finish()
            shared.state.withLock { $0.senderDone = true }
        }
        chunks: while let chunk = try await mailbox.next(maxCount: 1)?.first {
            var position = 0
            while position < chunk.count {
                let now = benchNow() &- t0
                if now >= plan.sendUntil { break chunks }
                let due = chunk.intended[position]
                if due > now {
                    try await Task.sleep(nanoseconds: due - now)
                    continue
                }
                var end = position + 1
                while end < chunk.count, chunk.intended[end] <= now { end += 1 }
                shared.state.withLock { state in
                    for i in position..<end { state.queue.push(chunk.intended[i]) }
                }
                do {
                    try await outbound.write(ByteBuffer(bytes: chunk.bytes[chunk.start(of: position)..<chunk.ends[end - 1]]))
                } catch  where benchNow() &- t0 >= plan.hardStop {
                    break chunks  // still blocked by backpressure when the run was cut off
                }
                stats.sent += end - position
                for i in position..<end where chunk.intended[i] >= plan.measureFrom { stats.sentInWindow += 1 }
                position = end
            }
        }
        return stats
    }

    /// Open loop: matches each reply with the oldest unanswered record (replies come in order).
    private func readReplies(inbound: NIOAsyncChannelInboundStream<ByteBuffer>, shared: Shared) async throws -> BenchStats {
        var stats = BenchStats()
        var scanner = BenchReplyScanner(iso8583: plan.iso8583)
        do {
            for try await buffer in inbound {
                let now = benchNow() &- t0
                buffer.withUnsafeReadableBytes { bytes in
                    scanner.scan(bytes) { kind in
                        let sentAt = shared.state.withLock { $0.queue.pop() } ?? now
                        stats.record(kind, sentAt: sentAt, now: now, plan: plan)
                    }
                }
                if shared.state.withLock({ $0.senderDone && $0.queue.isEmpty }) { break }
            }
        } catch  where benchNow() &- t0 >= plan.hardStop {
            // Closed at the hard stop: what was counted stands; the rest is "unanswered".
        }
        return stats
    }

    /// Closed loop: keeps the window full, measuring each record from its actual send.
    private func closedLoop(inbound: NIOAsyncChannelInboundStream<ByteBuffer>, outbound: NIOAsyncChannelOutboundWriter<ByteBuffer>) async throws
        -> BenchStats
    {
        var stats = BenchStats()
        var scanner = BenchReplyScanner(iso8583: plan.iso8583)
        var iterator = inbound.makeAsyncIterator()
        var queue = BenchTimeQueue(capacity: plan.window + BenchProducer.closedChunkSize)
        let limit = Swift.max(plan.window, BenchProducer.closedChunkSize)
        var sending = true
        while true {
            while sending, queue.count + BenchProducer.closedChunkSize <= limit {
                guard benchNow() &- t0 < plan.sendUntil, let chunk = try await mailbox.next(maxCount: 1)?.first else {
                    sending = false
                    outbound.finish()
                    break
                }
                let now = benchNow() &- t0
                for _ in 0..<chunk.count { queue.push(now) }
                try await outbound.write(ByteBuffer(bytes: chunk.bytes))
                stats.sent += chunk.count
                if now >= plan.measureFrom, now < plan.sendUntil { stats.sentInWindow += chunk.count }
            }
            if !sending, queue.isEmpty { break }
            guard let buffer = try await iterator.next() else { break }
            let now = benchNow() &- t0
            buffer.withUnsafeReadableBytes { bytes in
                scanner.scan(bytes) { kind in
                    stats.record(kind, sentAt: queue.pop() ?? now, now: now, plan: plan)
                }
            }
            if sending, now >= plan.sendUntil {
                sending = false
                outbound.finish()
            }
        }
        return stats
    }

    static func sleep(until deadline: UInt64) async throws {
        let now = benchNow()
        if deadline > now { try await Task.sleep(nanoseconds: deadline - now) }
    }
}
