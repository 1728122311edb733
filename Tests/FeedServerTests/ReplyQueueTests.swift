import FeedProtocol
import FeedServer
import Testing

@Suite("Reply queue: order, bound and records not handed over")
struct ReplyQueueTests {
    @Test("records abandoned in the middle of a read get no reply; the replies around them still go out in order")
    func abandonedInTheMiddle() async throws {
        let queue = ReplyQueue(capacity: 4)
        var sequences: [UInt64] = []
        for _ in 0..<4 { sequences.append(try #require(queue.tryReserve())) }
        #expect(queue.tryReserve() == nil)  // the bound: four unanswered

        // A read whose records 1 and 2 went to a stage that refused them.
        queue.abandon([sequences[1], sequences[2]])
        #expect(queue.unanswered == 2)  // their places are free at once
        let more = try #require(queue.tryReserve())

        queue.complete(sequences[3], .ack(id: "d", duplicate: false))
        queue.complete(more, .ack(id: "e", duplicate: false))
        queue.complete(sequences[0], .ack(id: "a", duplicate: false))
        queue.finishSubmitting()

        var written: [FeedReply] = []
        var batch: [FeedReply] = []
        while await queue.nextReady(into: &batch) {
            written += batch
            queue.written(batch.count)
            batch.removeAll()
        }
        #expect(written.map(\.id) == ["a", "d", "e"])
        #expect(queue.unanswered == 0)
    }

    @Test("a reader waiting for a place is let in when records are abandoned")
    func abandonFreesWaitingReader() async throws {
        let queue = ReplyQueue(capacity: 1)
        let first = try #require(await queue.reserve())
        async let second = queue.reserve()
        queue.abandon([first])
        #expect(await second == first + 1)
    }
}

extension FeedReply {
    fileprivate var id: String? {
        if case .ack(let id, _, _) = self { return id }
        return nil
    }
}
