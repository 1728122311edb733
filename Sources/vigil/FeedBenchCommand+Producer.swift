import FeedGenerator
import FeedProtocol
import ISO8583
import Supervision

/// Encoded feed lines for one connection, with each line's scheduled send time.
struct BenchChunk: Sendable {
    /// Lines, each ending in `\n`.
    var bytes: [UInt8] = []
    /// Offset just past each line's `\n` in `bytes`.
    var ends: [Int] = []
    /// Open loop: each line's scheduled send time, in ns after the run's start.
    var intended: [UInt64] = []

    var count: Int { ends.count }
    /// Byte offset where line `index` starts.
    func start(of index: Int) -> Int { index == 0 ? 0 : ends[index - 1] }
}

/// Generates the stream once, in order, and deals each record to the connection of its
/// account, so every account's records keep their order on one connection.
struct BenchProducer: Sendable {
    let plan: BenchPlan
    let mailboxes: [Mailbox<BenchChunk>]

    /// Lines per chunk in closed loop; open loop flushes every `flushIntervalNanos` of timetable.
    static let closedChunkSize = 64
    static let flushIntervalNanos: UInt64 = 5_000_000

    /// Runs until the timetable ends (open loop), the generator runs dry, or cancellation;
    /// then finishes every mailbox. Returns how many records were generated.
    func run(generator: FeedGenerator) async -> Int {
        defer { for mailbox in mailboxes { mailbox.finish() } }
        var iterator = generator.makeIterator()
        var pending = [BenchChunk](repeating: BenchChunk(), count: mailboxes.count)
        let interval = plan.rate.map { 1e9 / $0 }
        var produced = 0
        var nextFlush = Self.flushIntervalNanos
        var dead = [Bool](repeating: false, count: mailboxes.count)
        var frame: [UInt8] = []
        do {
            while !Task.isCancelled, let record = iterator.next() {
                var tx = record.transaction
                if plan.timeOffsetMicros != 0 { tx.timestamp = tx.timestamp.adding(microseconds: plan.timeOffsetMicros) }
                var hash = StableHash()
                hash.combine(tx.accountID)
                let target = Int(hash.value % UInt64(mailboxes.count))
                // ISO 8583 frames instead of lines (packed into one reused buffer); a record
                // the dialect cannot carry is skipped.
                if let packager = plan.iso8583 {
                    frame.removeAll(keepingCapacity: true)
                    do {
                        try packager.encode(ISO8583RequestBuilder.request(for: tx), into: &frame)
                    } catch {
                        continue
                    }
                }
                if let interval {
                    let due = UInt64(Double(produced) * interval)
                    if due >= plan.sendUntil { break }
                    if due >= nextFlush {
                        try await flushAll(&pending, dead: &dead)
                        nextFlush = (due / Self.flushIntervalNanos + 1) * Self.flushIntervalNanos
                    }
                    pending[target].intended.append(due)
                }
                if plan.iso8583 != nil {
                    pending[target].bytes.append(contentsOf: frame)
                } else {
                    FeedEncoder.append(tx, to: &pending[target].bytes)
                }
                pending[target].ends.append(pending[target].bytes.count)
                produced += 1
                if interval == nil, pending[target].count >= Self.closedChunkSize {
                    let chunk = pending[target]
                    pending[target] = Self.emptyChunk(like: chunk)
                    try await deliver(chunk, to: target, dead: &dead)
                }
            }
            try await flushAll(&pending, dead: &dead)
        } catch {
            // Cancelled: the run is over.
        }
        return produced
    }

    private func flushAll(_ pending: inout [BenchChunk], dead: inout [Bool]) async throws {
        for index in pending.indices where pending[index].count > 0 {
            let chunk = pending[index]
            pending[index] = Self.emptyChunk(like: chunk)
            try await deliver(chunk, to: index, dead: &dead)
        }
    }

    /// Hands a chunk to its connection; a connection that has ended (its mailbox finished)
    /// is skipped from then on, so one failed connection does not stall the others.
    private func deliver(_ chunk: BenchChunk, to index: Int, dead: inout [Bool]) async throws {
        guard !dead[index] else { return }
        do {
            try await mailboxes[index].send(chunk)
        } catch is MailboxError {
            dead[index] = true
        }
    }

    private static func emptyChunk(like chunk: BenchChunk) -> BenchChunk {
        var fresh = BenchChunk()
        fresh.bytes.reserveCapacity(chunk.bytes.count)
        fresh.ends.reserveCapacity(chunk.count)
        if !chunk.intended.isEmpty { fresh.intended.reserveCapacity(chunk.count) }
        return fresh
    }
}

/// A growable FIFO of `UInt64` (send times of unanswered records) without per-element allocation.
struct BenchTimeQueue {
    private var storage: [UInt64]
    private var head = 0
    private(set) var count = 0

    init(capacity: Int) {
        storage = [UInt64](repeating: 0, count: Swift.max(16, capacity))
    }

    var isEmpty: Bool { count == 0 }

    mutating func push(_ value: UInt64) {
        if count == storage.count { grow() }
        storage[(head + count) % storage.count] = value
        count += 1
    }

    mutating func pop() -> UInt64? {
        guard count > 0 else { return nil }
        let value = storage[head]
        head = (head + 1) % storage.count
        count -= 1
        return value
    }

    private mutating func grow() {
        var bigger = [UInt64](repeating: 0, count: storage.count * 2)
        for i in 0..<count { bigger[i] = storage[(head + i) % storage.count] }
        storage = bigger
        head = 0
    }
}
