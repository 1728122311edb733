import NIOCore
import NIOPosix
import Supervision

/// What one connection of a run measured, and why it ended early if it did.
struct BenchConnectionOutcome: Sendable {
    var stats: BenchStats
    var error: String?
}

/// The open loop, run entirely on one NIO event loop: one timer for all connections sends
/// every record that is due (each connection's due records in one write), and each
/// connection's replies are matched in its channel handler as they are read.
///
/// The load generator shares the machine with the server and PostgreSQL, so what it spends
/// is taken from them. A sleeping task per connection, woken per record, with a hop to the
/// event loop for each write and another back for each reply, cost about 90 µs of CPU a
/// record at 5,000 records/s (context switches mostly); here a record costs a timer fire
/// shared with the others due at the same instant, its write and the read of its reply, all on
/// one thread.
///
/// Latency still counts from each record's scheduled time, so a record sent late (the loop
/// busy, the connection not writable) is measured late: no coordinated omission, and never
/// sent early.
struct BenchOpenLoop: Sendable {
    let plan: BenchPlan
    let mailboxes: [Mailbox<BenchChunk>]
    let t0: UInt64

    /// How soon the timer looks again at a connection that could not send (not writable, or
    /// its next chunk not generated yet).
    static let retryNanos: UInt64 = 1_000_000

    func run() async -> [BenchConnectionOutcome] {
        let loop = MultiThreadedEventLoopGroup.singleton.next()
        let plan = self.plan
        let t0 = self.t0
        let connects = mailboxes.map { _ in
            ClientBootstrap(group: loop)
                .channelOption(.socketOption(.tcp_nodelay), value: 1)
                .channelOption(.allowRemoteHalfClosure, value: true)
                .channelInitializer { channel in
                    channel.eventLoop.makeCompletedFuture {
                        try plan.tls?.addHandler(to: channel, host: plan.host)
                        try channel.pipeline.syncOperations.addHandler(OpenLoopHandler(plan: plan, t0: t0, eventLoop: channel.eventLoop))
                    }
                }
                .connect(host: plan.host, port: plan.port)
        }
        var outcomes = [BenchConnectionOutcome?](repeating: nil, count: mailboxes.count)
        var connected: [(index: Int, channel: any Channel)] = []
        for (index, connect) in connects.enumerated() {
            do {
                connected.append((index, try await connect.get()))
            } catch {
                outcomes[index] = BenchConnectionOutcome(stats: BenchStats(), error: "\(error)")
                mailboxes[index].finish()  // the producer skips this connection from now on
            }
        }
        let mailboxes = self.mailboxes
        let started = loop.submit { () throws -> [EventLoopFuture<BenchConnectionOutcome>] in
            var slots: [OpenLoopPacer.Slot] = []
            for (index, channel) in connected {
                let handler = try channel.pipeline.syncOperations.handler(type: OpenLoopHandler.self)
                slots.append(OpenLoopPacer.Slot(channel: channel, handler: handler, mailbox: mailboxes[index]))
            }
            let pacer = OpenLoopPacer(plan: plan, t0: t0, slots: slots, eventLoop: loop)
            pacer.start()
            return slots.map(\.handler.finished.futureResult)
        }
        do {
            let finished = try await started.get()
            for ((index, _), future) in zip(connected, finished) {
                outcomes[index] = try await future.get()
            }
        } catch {
            for (index, channel) in connected where outcomes[index] == nil {
                channel.close(promise: nil)
                outcomes[index] = BenchConnectionOutcome(stats: BenchStats(), error: "\(error)")
            }
        }
        for mailbox in mailboxes { mailbox.finish() }
        return outcomes.map { $0 ?? BenchConnectionOutcome(stats: BenchStats(), error: "never started") }
    }
}

/// Sends on the timetable for every connection of an open-loop run; lives on its event loop.
final class OpenLoopPacer {
    struct Slot {
        let channel: any Channel
        let handler: OpenLoopHandler
        let mailbox: Mailbox<BenchChunk>
        var chunk: BenchChunk?
        var position = 0
        var sending = true

        init(channel: any Channel, handler: OpenLoopHandler, mailbox: Mailbox<BenchChunk>) {
            self.channel = channel
            self.handler = handler
            self.mailbox = mailbox
        }
    }

    private let plan: BenchPlan
    private let t0: UInt64
    private var slots: [Slot]
    private let eventLoop: any EventLoop

    init(plan: BenchPlan, t0: UInt64, slots: [Slot], eventLoop: any EventLoop) {
        self.plan = plan
        self.t0 = t0
        self.slots = slots
        self.eventLoop = eventLoop
    }

    /// Schedules the first send at the run's start and every connection's close at the hard stop.
    func start() {
        let bound = NIOLoopBound(self, eventLoop: eventLoop)
        eventLoop.scheduleTask(deadline: .uptimeNanoseconds(t0)) { bound.value.fire() }
        eventLoop.scheduleTask(deadline: .uptimeNanoseconds(t0 + plan.hardStop)) { bound.value.stopAll() }
    }

    private func fire() {
        let now = benchNow() &- t0
        var nextDue = UInt64.max
        var retry = false
        for index in slots.indices where slots[index].sending {
            if now >= plan.sendUntil || !slots[index].channel.isActive {
                finishSending(index)
                continue
            }
            guard slots[index].channel.isWritable else {
                retry = true  // the server pushes back: what falls due meanwhile goes late, in one write
                continue
            }
            switch send(index, now: now) {
            case .due(let due): nextDue = min(nextDue, due)
            case .waiting: retry = true
            case .done: finishSending(index)
            }
        }
        guard slots.contains(where: \.sending) else { return }
        var next = min(nextDue, plan.sendUntil)
        if retry { next = min(next, now + BenchOpenLoop.retryNanos) }
        // Records that fall due before the tick ends wait for it, and are measured late.
        next = max(next, now + plan.sendTickNanos)
        let bound = NIOLoopBound(self, eventLoop: eventLoop)
        eventLoop.scheduleTask(deadline: .uptimeNanoseconds(t0 + max(next, now))) { bound.value.fire() }
    }

    private enum SendResult {
        /// The connection's next record is due at this offset.
        case due(UInt64)
        /// Its next chunk is not generated yet.
        case waiting
        /// The producer finished and every record was sent.
        case done
    }

    /// Writes every record of slot `index` due by `now`, in one flush.
    private func send(_ index: Int, now: UInt64) -> SendResult {
        let channel = slots[index].channel
        var wrote = false
        defer { if wrote { channel.flush() } }
        while true {
            if slots[index].chunk.map({ slots[index].position >= $0.count }) ?? true {
                switch slots[index].mailbox.poll() {
                case .element(let chunk):
                    slots[index].chunk = chunk
                    slots[index].position = 0
                    continue
                case .empty: return .waiting
                case .finished: return .done
                }
            }
            guard let chunk = slots[index].chunk else { return .waiting }
            let position = slots[index].position
            let due = chunk.intended[position]
            if due > now { return .due(due) }
            var end = position + 1
            while end < chunk.count, chunk.intended[end] <= now { end += 1 }
            slots[index].handler.willSend(chunk.intended[position..<end])
            let bytes = chunk.bytes[chunk.start(of: position)..<chunk.ends[end - 1]]
            var buffer = channel.allocator.buffer(capacity: bytes.count)
            buffer.writeBytes(bytes)
            channel.write(buffer, promise: nil)
            wrote = true
            slots[index].position = end
        }
    }

    private func finishSending(_ index: Int) {
        guard slots[index].sending else { return }
        slots[index].sending = false
        slots[index].mailbox.finish()
        slots[index].handler.senderDone(channel: slots[index].channel)
    }

    /// The hard stop: every connection is closed, answered or not.
    private func stopAll() {
        for index in slots.indices {
            finishSending(index)
            slots[index].channel.close(promise: nil)
        }
    }
}

/// One open-loop connection's replies: each is matched with the oldest unanswered record
/// (replies come in order) and counted from that record's scheduled time.
final class OpenLoopHandler: ChannelInboundHandler, RemovableChannelHandler {
    typealias InboundIn = ByteBuffer

    private let plan: BenchPlan
    private let t0: UInt64
    private var stats = BenchStats()
    private var unanswered = BenchTimeQueue(capacity: 4096)
    private var scanner: BenchReplyScanner
    private var sendingDone = false
    private var error: String?
    private var reported = false
    /// Completed when the connection closes, with what it measured.
    let finished: EventLoopPromise<BenchConnectionOutcome>

    init(plan: BenchPlan, t0: UInt64, eventLoop: any EventLoop) {
        self.plan = plan
        self.t0 = t0
        self.scanner = BenchReplyScanner(iso8583: plan.iso8583)
        self.finished = eventLoop.makePromise()
    }

    /// Records about to be written, by their scheduled send times.
    func willSend(_ intended: ArraySlice<UInt64>) {
        for time in intended {
            unanswered.push(time)
            if time >= plan.measureFrom { stats.sentInWindow += 1 }
        }
        stats.sent += intended.count
    }

    /// Nothing more will be sent: the output is half-closed, and the connection closes once
    /// every record is answered.
    func senderDone(channel: any Channel) {
        sendingDone = true
        channel.close(mode: .output, promise: nil)
        if unanswered.isEmpty { channel.close(promise: nil) }
    }

    func channelRead(context: ChannelHandlerContext, data: NIOAny) {
        let buffer = unwrapInboundIn(data)
        let now = benchNow() &- t0
        buffer.withUnsafeReadableBytes { bytes in
            scanner.scan(bytes) { kind in
                stats.record(kind, sentAt: unanswered.pop() ?? now, now: now, plan: plan)
            }
        }
        if sendingDone, unanswered.isEmpty { context.close(promise: nil) }
    }

    func errorCaught(context: ChannelHandlerContext, error: any Error) {
        // Closed at the hard stop: what was counted stands; the rest is "unanswered".
        if self.error == nil, benchNow() &- t0 < plan.hardStop { self.error = "\(error)" }
        context.close(promise: nil)
    }

    func channelInactive(context: ChannelHandlerContext) {
        if !sendingDone, error == nil, benchNow() &- t0 < plan.hardStop {
            error = "the server closed the connection after \(stats.acked + stats.nacked) replies"
        }
        report()
        context.fireChannelInactive()
    }

    func handlerRemoved(context: ChannelHandlerContext) {
        if error == nil, !sendingDone { error = "connection handler removed" }
        report()
    }

    private func report() {
        guard !reported else { return }
        reported = true
        finished.succeed(BenchConnectionOutcome(stats: stats, error: error))
    }
}
