import Testing

@testable import Supervision

/// Prints a rough throughput figure; asserts only that everything arrived, never a speed.
@Suite("Mailbox throughput")
struct MailboxThroughputTests {
    static func measure(producers: Int, perProducer: Int, batchSize: Int, capacity: Int) async throws -> Double {
        let mailbox = Mailbox<Int>(capacity: capacity)
        let clock = ContinuousClock()
        let start = clock.now
        let received = try await withThrowingTaskGroup(of: Int.self) { group in
            for _ in 0..<producers {
                group.addTask {
                    if batchSize == 1 {
                        for value in 0..<perProducer { try await mailbox.send(value) }
                    } else {
                        var batch: [Int] = []
                        batch.reserveCapacity(batchSize)
                        for value in 0..<perProducer {
                            batch.append(value)
                            if batch.count == batchSize {
                                try await mailbox.send(contentsOf: batch)
                                batch.removeAll(keepingCapacity: true)
                            }
                        }
                        if !batch.isEmpty { try await mailbox.send(contentsOf: batch) }
                    }
                    return 0
                }
            }
            group.addTask {
                var count = 0
                while count < producers * perProducer, let batch = try await mailbox.next(maxCount: max(100, batchSize)) {
                    count += batch.count
                }
                return count
            }
            var total = 0
            for try await part in group { total += part }
            return total
        }
        #expect(received == producers * perProducer)
        let seconds = RestartBackoff.seconds(start.duration(to: clock.now))
        return Double(received) / max(seconds, 1e-9)
    }

    @Test func printThroughput() async throws {
        for (producers, batchSize, perProducer) in [(1, 1, 200_000), (1, 100, 1_000_000), (4, 1, 50_000), (4, 100, 250_000)] {
            let rate = try await Self.measure(producers: producers, perProducer: perProducer, batchSize: batchSize, capacity: 1_024)
            print("mailbox throughput: \(producers) producer(s), batches of \(batchSize), capacity 1024: \(Int(rate)) elements/s")
        }
    }
}
