import Synchronization
import Testing
import VigilTesting

@testable import Supervision

@Suite("Mailbox")
struct MailboxTests {
    @Test func aFullMailboxSuspendsTheSenderUntilTheConsumerMakesRoom() async throws {
        let mailbox = Mailbox<Int>(capacity: 2)
        try await mailbox.send(1)
        try await mailbox.send(2)
        let sent = Locked(false)
        let sender = Task {
            try await mailbox.send(3)
            sent.update { $0 = true }
        }
        #expect(await eventually { mailbox.waitingSenders == 1 })
        #expect(mailbox.count == 2)
        #expect(!sent.current)
        #expect(try await mailbox.next(maxCount: 1) == [1])
        try await sender.value
        #expect(sent.current)
        #expect(mailbox.count == 2)
        #expect(try await mailbox.next(maxCount: 10) == [2, 3])
    }

    @Test func nextReturnsWhatIsThereAndWaitsOnlyWhenEmpty() async throws {
        let mailbox = Mailbox<Int>(capacity: 8)
        try await mailbox.send(contentsOf: [1, 2, 3])
        #expect(try await mailbox.next(maxCount: 2) == [1, 2])
        #expect(try await mailbox.next(maxCount: 2) == [3])
        let receiver = Task { try await mailbox.next(maxCount: 5) }
        try await mailbox.send(4)
        #expect(try await receiver.value == [4])
    }

    @Test func aBatchIsAdmittedWholeOrNotAtAll() async throws {
        let mailbox = Mailbox<Int>(capacity: 4)
        try await mailbox.send(contentsOf: [1, 2, 3])
        let sender = Task { try await mailbox.send(contentsOf: [4, 5]) }
        #expect(await eventually { mailbox.waitingSenders == 1 })
        #expect(mailbox.count == 3)  // 4 would fit alone, but the batch does not
        #expect(try await mailbox.next(maxCount: 1) == [1])
        try await sender.value
        #expect(try await mailbox.next(maxCount: 10) == [2, 3, 4, 5])
        // A batch larger than the capacity still goes through, into an empty mailbox.
        try await mailbox.send(contentsOf: Array(10..<20))
        #expect(try await mailbox.next(maxCount: 100) == Array(10..<20))
    }

    @Test func finishDeliversWhatWasSentThenEnds() async throws {
        let mailbox = Mailbox<Int>(capacity: 3)
        try await mailbox.send(contentsOf: [1, 2, 3])
        let blocked = Task { try await mailbox.send(4) }
        #expect(await eventually { mailbox.waitingSenders == 1 })
        mailbox.finish()
        await #expect(throws: MailboxError(code: .finished)) { try await blocked.value }
        await #expect(throws: MailboxError(code: .finished)) { try await mailbox.send(5) }
        #expect(try await mailbox.next(maxCount: 2) == [1, 2])
        #expect(try await mailbox.next(maxCount: 2) == [3])
        #expect(try await mailbox.next(maxCount: 2) == nil)
        #expect(try await mailbox.next(maxCount: 2) == nil)
    }

    @Test func finishWakesAWaitingConsumer() async throws {
        let mailbox = Mailbox<Int>(capacity: 3)
        let receiver = Task { try await mailbox.next(maxCount: 5) }
        #expect(await eventually { mailbox.hasWaitingConsumer })  // finish() must wake it, not find it absent
        mailbox.finish()
        #expect(try await receiver.value == nil)
    }

    @Test func aCancelledBlockedSenderThrowsAndEnqueuesNothing() async throws {
        let mailbox = Mailbox<Int>(capacity: 1)
        try await mailbox.send(1)
        let blocked = Task { try await mailbox.send(2) }
        let behind = Task { try await mailbox.send(contentsOf: [3]) }
        #expect(await eventually { mailbox.waitingSenders == 2 })
        blocked.cancel()
        await #expect(throws: CancellationError.self) { try await blocked.value }
        #expect(mailbox.waitingSenders == 1)
        #expect(try await mailbox.next(maxCount: 10) == [1])
        try await behind.value
        #expect(try await mailbox.next(maxCount: 10) == [3])
        #expect(mailbox.count == 0)
    }

    @Test func aCancelledWaitingConsumerLosesNothing() async throws {
        let mailbox = Mailbox<Int>(capacity: 4)
        let receiver = Task { try await mailbox.next(maxCount: 4) }
        receiver.cancel()
        await #expect(throws: CancellationError.self) { try await receiver.value }
        try await mailbox.send(7)
        #expect(try await mailbox.next(maxCount: 4) == [7])
    }

    @Test func manyProducersLoseAndDuplicateNothing() async throws {
        let mailbox = Mailbox<Int>(capacity: 64)
        let producers = 8
        let perProducer = 5_000
        let received = try await withThrowingTaskGroup(of: [Int].self) { group in
            for producer in 0..<producers {
                group.addTask {
                    for index in 0..<perProducer {
                        let value = producer * perProducer + index
                        if index % 3 == 0 {
                            try await mailbox.send(value)
                        } else if index % 3 == 1 {
                            try await mailbox.send(contentsOf: [value])
                        } else {
                            try await mailbox.send(contentsOf: CollectionOfOne(value))
                        }
                    }
                    return []
                }
            }
            group.addTask {
                var all: [Int] = []
                while all.count < producers * perProducer, let batch = try await mailbox.next(maxCount: 50) {
                    #expect(batch.count <= 50)
                    all.append(contentsOf: batch)
                }
                return all
            }
            var all: [Int] = []
            for try await part in group { all.append(contentsOf: part) }
            return all
        }
        #expect(received.count == producers * perProducer)
        #expect(Set(received).count == producers * perProducer)
        // Each producer's elements arrive in the order it sent them.
        for producer in 0..<producers {
            let mine = received.filter { $0 / perProducer == producer }
            #expect(mine == mine.sorted())
        }
        #expect(mailbox.count == 0)
    }

    @Test func depthNeverExceedsCapacityUnderLoad() async throws {
        let mailbox = Mailbox<Int>(capacity: 16)
        let maxSeen = Locked(0)
        try await withThrowingTaskGroup(of: Void.self) { group in
            for producer in 0..<4 {
                group.addTask {
                    for index in 0..<2_000 { try await mailbox.send(contentsOf: [producer, index]) }
                }
            }
            group.addTask {
                var total = 0
                while total < 4 * 2_000 * 2, let batch = try await mailbox.next(maxCount: 7) {
                    total += batch.count
                    let depth = mailbox.count
                    maxSeen.update { $0 = max($0, depth) }
                }
            }
            try await group.waitForAll()
        }
        #expect(maxSeen.current <= 16)
    }
}
