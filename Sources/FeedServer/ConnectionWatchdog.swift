import NIOCore

/// The idle and line timeouts of one feed connection, on its event loop.
///
/// Sits in front of the line framing and sees the raw bytes: a connection that sends
/// nothing for `idle` (and has no record waiting for its reply) is closed; a line begun
/// and not finished within `line` (slow loris) ends the reader's input (later bytes are
/// read and dropped), and the connection's task answers it `line_timeout` after the
/// replies still owed, then closes.
///
/// Time during which the listener itself does not read the socket (the pipeline is
/// full and NIO holds back `read()`) is not held against the sender: the clocks are
/// moved on by the length of each such pause. One timer per connection, re-armed
/// lazily: activity only moves a deadline later, and the timer re-reads it when it fires.
final class ConnectionWatchdog: ChannelDuplexHandler, RemovableChannelHandler {
    typealias InboundIn = ByteBuffer
    typealias InboundOut = ByteBuffer
    typealias OutboundIn = ByteBuffer
    typealias OutboundOut = ByteBuffer

    private let idle: TimeAmount?
    private let line: TimeAmount?
    private let replies: ReplyQueue
    private let outcome: LineTimeout
    private let reporter: TimeoutReporter
    private var lastInbound = NIODeadline.now()
    private var partialSince: NIODeadline?
    private var partialBytes = 0
    /// Set when a read completed and NIO has not asked for the next (backpressure).
    private var pausedAt: NIODeadline?
    private var timer: Scheduled<Void>?
    private var timerDeadline: NIODeadline?
    private var finished = false
    /// After a line timeout: the reader was told the input ended; what still arrives is
    /// read and dropped, so that closing does not meet unread bytes (which would turn
    /// the close into a reset that can destroy the replies not yet read by the client).
    private var discarding = false

    init(idle: Duration?, line: Duration?, replies: ReplyQueue, outcome: LineTimeout, reporter: TimeoutReporter) {
        self.idle = idle.map(TimeAmount.init)
        self.line = line.map(TimeAmount.init)
        self.replies = replies
        self.outcome = outcome
        self.reporter = reporter
    }

    func handlerAdded(context: ChannelHandlerContext) {
        if context.channel.isActive { start(context) }
    }

    func channelActive(context: ChannelHandlerContext) {
        start(context)
        context.fireChannelActive()
    }

    func channelInactive(context: ChannelHandlerContext) {
        stop()
        context.fireChannelInactive()
    }

    func handlerRemoved(context: ChannelHandlerContext) {
        stop()
    }

    func channelRead(context: ChannelHandlerContext, data: NIOAny) {
        if discarding { return }
        let now = NIODeadline.now()
        lastInbound = now
        if line != nil {
            let bytes = unwrapInboundIn(data).readableBytesView
            let newline = UInt8(ascii: "\n")
            if bytes.last == newline {
                partialSince = nil
            } else if let end = bytes.lastIndex(of: newline) {
                partialSince = now
                partialBytes = bytes.endIndex - end - 1
            } else {
                if partialSince == nil {
                    partialSince = now
                    partialBytes = 0
                }
                partialBytes += bytes.count
            }
            if let since = partialSince, let line { arm(context, at: since + line) }
        }
        context.fireChannelRead(data)
    }

    func userInboundEventTriggered(context: ChannelHandlerContext, event: Any) {
        if let event = event as? ChannelEvent, event == .inputClosed {
            if discarding { return }  // the reader was told already
            // The client half-closed (or the listener is draining): an unfinished line can
            // no longer be finished; the framing drops it. Only the idle rule is left, and
            // the connection is not idle while replies are owed to it.
            partialSince = nil
        }
        context.fireUserInboundEventTriggered(event)
    }

    func channelReadComplete(context: ChannelHandlerContext) {
        if discarding {
            context.read()
            return
        }
        pausedAt = .now()
        context.fireChannelReadComplete()
    }

    func read(context: ChannelHandlerContext) {
        if let paused = pausedAt {
            // Not reading is the listener's doing, not the sender's: move the clocks on.
            let pause = NIODeadline.now() - paused
            lastInbound = lastInbound + pause
            partialSince = partialSince.map { $0 + pause }
            pausedAt = nil
        }
        context.read()
    }

    private func start(_ context: ChannelHandlerContext) {
        guard timer == nil, !finished else { return }
        lastInbound = .now()
        if let idle { arm(context, at: lastInbound + idle) }
    }

    private func stop() {
        finished = true
        timer?.cancel()
        timer = nil
    }

    /// Makes sure the timer fires no later than `deadline`.
    private func arm(_ context: ChannelHandlerContext, at deadline: NIODeadline) {
        guard !finished else { return }
        if let current = timerDeadline, current <= deadline { return }
        timer?.cancel()
        timerDeadline = deadline
        timer = context.eventLoop.assumeIsolated().scheduleTask(deadline: deadline) { [self] in
            timer = nil
            timerDeadline = nil
            check(context)
        }
    }

    private func check(_ context: ChannelHandlerContext) {
        guard !finished, context.channel.isActive else { return }
        let now = NIODeadline.now()
        if pausedAt != nil {
            // Held back by the pipeline: look again later; `read()` will move the clocks.
            if let shortest = [idle, line].compactMap({ $0 }).min() { arm(context, at: now + shortest) }
            return
        }
        if let line, let since = partialSince, now >= since + line {
            finished = true
            outcome.record(bytes: partialBytes)
            reporter.lineTimedOut(peer: context.channel.remoteAddress, bytes: partialBytes)
            // End the reader's input (the framing drops the unfinished line); the
            // connection's task sends what is owed, then the nack, then closes. The socket
            // is drained meanwhile. Should the client not take its replies, close anyway.
            discarding = true
            context.fireUserInboundEventTriggered(ChannelEvent.inputClosed)
            context.read()
            let channel = context.channel
            context.eventLoop.scheduleTask(in: line) { channel.close(promise: nil) }
            return
        }
        if let idle {
            if replies.unanswered > 0 {
                // Waiting for its replies is not idle. Look again soon, so that the idle
                // time counted afterwards starts close to the last reply.
                lastInbound = now
                arm(context, at: now + .nanoseconds(max(idle.nanoseconds / 10, 1_000_000)))
                return
            }
            if now >= lastInbound + idle {
                finished = true
                reporter.idleClosed(peer: context.channel.remoteAddress)
                context.close(promise: nil)
                return
            }
            arm(context, at: lastInbound + idle)
        }
        if let line, let since = partialSince { arm(context, at: since + line) }
    }
}
