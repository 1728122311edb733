import Testing
import VigilTesting

@testable import Supervision

@Suite("Mailbox batching")
struct MailboxBatchingTests {
    @Test func aFullBatchReturnsWithoutLingering() async throws {
        let mailbox = Mailbox<Int>(capacity: 10)
        let receiver = Task { try await mailbox.next(maxCount: 3, maxWait: .seconds(60)) }
        try await mailbox.send(1)
        try await mailbox.send(contentsOf: [2, 3])
        // Would take a minute if it waited for the linger time.
        #expect(try await receiver.value?.count ?? 0 >= 1)
    }

    @Test func lingerCollectsElementsArrivingAfterTheFirst() async throws {
        let mailbox = Mailbox<Int>(capacity: 10)
        try await mailbox.send(1)
        let receiver = Task { try await mailbox.next(maxCount: 3, maxWait: .seconds(60)) }
        #expect(await eventually { mailbox.count == 0 })  // the first element has been taken
        try await mailbox.send(2)
        try await mailbox.send(3)
        #expect(try await receiver.value == [1, 2, 3])
    }

    @Test func lingerEndsAfterMaxWaitWithAPartialBatch() async throws {
        let mailbox = Mailbox<Int>(capacity: 10)
        try await mailbox.send(1)
        #expect(try await mailbox.next(maxCount: 100, maxWait: .milliseconds(20)) == [1])
    }

    @Test func cancellingALingeringConsumerKeepsItsPartialBatch() async throws {
        let mailbox = Mailbox<Int>(capacity: 10)
        try await mailbox.send(1)
        let receiver = Task { try await mailbox.next(maxCount: 100, maxWait: .seconds(60)) }
        #expect(await eventually { mailbox.count == 0 })
        receiver.cancel()
        #expect(try await receiver.value == [1])
    }

    @Test func batchesSequenceEndsAfterFinish() async throws {
        let mailbox = Mailbox<Int>(capacity: 100)
        try await mailbox.send(contentsOf: Array(0..<25))
        mailbox.finish()
        var sizes: [Int] = []
        for try await batch in mailbox.batches(maxCount: 10, maxWait: .milliseconds(1)) { sizes.append(batch.count) }
        #expect(sizes == [10, 10, 5])
    }

    @Test func lingerWakesWhenTheMailboxIsFull() async throws {
        let mailbox = Mailbox<Int>(capacity: 2)
        try await mailbox.send(1)
        let receiver = Task { try await mailbox.next(maxCount: 10, maxWait: .seconds(60)) }
        #expect(await eventually { mailbox.count == 0 })
        try await mailbox.send(contentsOf: [2, 3])
        let blocked = Task { try await mailbox.send(4) }
        // Capacity 2 can never hold the 9 missing elements: the consumer must not wait the minute.
        let batch = try #require(try await receiver.value)
        #expect(batch.first == 1 && batch.count >= 3)
        try await blocked.value
    }
}
