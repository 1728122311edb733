import FeedProtocol
import FeedServer
import Foundation
import NIOCore
import NIOPosix
import ServiceLifecycle
import Synchronization
import VigilCore

/// A sink standing in for the pipeline in the listener's own tests: it records what it
/// is given and answers with a policy (the pipeline's tests use the real one).
final class RecordingSink: FeedSink {
    enum Policy: Sendable {
        /// Ack valid records, nack rejected ones, right away.
        case answer
        /// Answer in reverse order every `n` records (tests reply ordering).
        case answerReversed(every: Int)
        /// Never return from submit for this account's records (a saturated partition);
        /// answer the others.
        case block(account: String)
        /// Hold every answer until the test calls `release()` (a slow database commit).
        case answerWhenReleased
        /// Refuse (throw for) this account's records, as a pipeline shutting down does;
        /// answer the others.
        case refuse(account: String)
    }
    struct Refused: Error {}
    let policy: Policy
    private let state = Mutex<(records: [FeedRecord], held: [FeedRecord], released: Bool)>(([], [], false))

    /// Answers every held record (and those that come later) — `.answerWhenReleased`.
    func release() {
        let held = state.withLock { s in
            s.released = true
            defer { s.held = [] }
            return s.held
        }
        for record in held { Self.answer(record) }
    }

    init(_ policy: Policy) { self.policy = policy }

    var count: Int { state.withLock { $0.records.count } }
    var records: [FeedRecord] { state.withLock { $0.records } }

    func submit(_ record: FeedRecord) async throws {
        switch policy {
        case .answer:
            state.withLock { $0.records.append(record) }
            Self.answer(record)
        case .answerReversed(let every):
            let batch: [FeedRecord] = state.withLock { s in
                s.records.append(record)
                s.held.append(record)
                guard s.held.count == every else { return [] }
                defer { s.held = [] }
                return s.held
            }
            for r in batch.reversed() { Self.answer(r) }
        case .block(let account):
            state.withLock { $0.records.append(record) }
            if case .transaction(let tx) = record.payload, tx.accountID == account {
                // A stage that never takes the record: wait until cancelled (shutdown).
                let (never, continuation) = AsyncStream<Never>.makeStream()
                for await _ in never {}  // ends only when the task is cancelled
                continuation.finish()
                try Task.checkCancellation()
            }
            Self.answer(record)
        case .refuse(let account):
            if case .transaction(let tx) = record.payload, tx.accountID == account { throw Refused() }
            state.withLock { $0.records.append(record) }
            Self.answer(record)
        case .answerWhenReleased:
            let releasedAlready = state.withLock { s -> Bool in
                s.records.append(record)
                if s.released { return true }
                s.held.append(record)
                return false
            }
            if releasedAlready { Self.answer(record) }
        }
    }

    static func answer(_ record: FeedRecord) {
        switch record.payload {
        case .transaction(let tx): record.reply(.ack(id: tx.id, duplicate: false))
        case .rejected(let rejection): record.reply(.nack(rejection))
        }
    }
}

/// Runs a feed server on a free loopback port for the duration of `body`, then shuts it
/// down gracefully.
func withFeedServer<R: Sendable>(
    sink: any FeedSink,
    configure: (inout FeedServerConfiguration) -> Void = { _ in },
    _ body: @Sendable (Int, FeedServer, ServiceGroup) async throws -> R
) async throws -> R {
    var configuration = FeedServerConfiguration(host: "127.0.0.1", port: 0)
    configure(&configuration)
    let server = FeedServer(configuration: configuration, sink: sink)
    let group = ServiceGroup(configuration: .init(services: [server], logger: .init(label: "test")))
    return try await withThrowingTaskGroup(of: Void.self) { tasks in
        tasks.addTask { try await group.run() }
        guard let port = await server.boundAddress()?.port else {
            throw TestServerNotBound()
        }
        do {
            let result = try await body(port, server, group)
            await group.triggerGracefulShutdown()
            try await tasks.waitForAll()
            return result
        } catch {
            await group.triggerGracefulShutdown()
            tasks.cancelAll()
            throw error
        }
    }
}

func validLine(_ id: String, account: String = "acc-1", amount: String = "12.50", currency: String = "EUR") -> String {
    let now = RFC3339.format(Timestamp.now())
    return
        #"{"id":"\#(id)","timestamp":"\#(now)","account_id":"\#(account)","amount":"\#(amount)","currency":"\#(currency)","channel":"card_present"}"#
}

struct TestServerNotBound: Error {}
