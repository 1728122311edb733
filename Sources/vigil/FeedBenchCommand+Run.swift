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
        case connections([BenchConnectionOutcome])
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
            if plan.rate != nil {
                group.addTask { .connections(await BenchOpenLoop(plan: plan, mailboxes: mailboxes, t0: t0).run()) }
            } else {
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
                case .connections(let outcomes):
                    for outcome in outcomes {
                        result.stats.merge(outcome.stats)
                        if let error = outcome.error { result.connectionErrors.append(error) }
                    }
                    open = 0
                }
                if open == 0 {
                    result.elapsedNanos = benchNow() &- t0
                    group.cancelAll()
                    open = -1
                }
            }
        }
        return result
    }
}

/// One closed-loop feed connection: one task alternating between topping up the window
/// and reading replies (the open loop is ``BenchOpenLoop``).
struct BenchConnection: Sendable {
    let plan: BenchPlan
    let mailbox: Mailbox<BenchChunk>
    let t0: UInt64

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
            return try await closedLoop(inbound: inbound, outbound: outbound)
        }
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
