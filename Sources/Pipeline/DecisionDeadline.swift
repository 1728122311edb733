import FeedServer
import Logging
import PostgresStore
import ServiceLifecycle
import Supervision
import VigilCore

/// Answers, with the operator's fallback, the records of one detection partition that
/// have waited longer than the decision budget for detection (restarting, rebuilding its
/// state, stalled, or behind): each is handed to the writer to be stored with the
/// fallback decision and acked after commit with `"degraded":"budget"`. The records
/// stay where they are, marked, so detection still evaluates them when it catches up:
/// windows and profiles miss nothing, and an alert they raise says the reply was a fallback.
///
/// It looks every fifth of the budget, so a record is answered within 1.2 budgets plus
/// the commit. It only reads the oldest records: a partition's mailbox is in arrival
/// order, so the scan stops at the first record still within its budget.
final class DecisionDeadline: Service, Sendable {
    private let input: Mailbox<FeedRecord>
    private let backlog: DetectionBacklog
    private let output: Mailbox<PipelineItem>
    private let budget: Duration
    private let fallback: TransactionDecision
    private let logger: Logger

    init(
        input: Mailbox<FeedRecord>, backlog: DetectionBacklog, output: Mailbox<PipelineItem>, budget: Duration,
        fallback: DecisionOutcome, logger: Logger = Logger(label: "vigil.decisions")
    ) {
        self.input = input
        self.backlog = backlog
        self.output = output
        self.budget = budget
        self.fallback = .fallback(fallback, reason: .budget)
        self.logger = logger
    }

    func run() async throws {
        let tick = max(budget / 5, .milliseconds(1))
        while true {
            // Only the wait ends at shutdown: a fallback already marked is always handed on.
            guard (try? await cancelWhenGracefulShutdown({ try await Task.sleep(for: tick) })) != nil else { return }
            let due = sweep(now: .now)
            guard !due.isEmpty else { continue }
            logger.debug("decision budget passed; answering with the fallback", metadata: ["records": "\(due.count)"])
            try await output.send(contentsOf: due)
        }
    }

    /// Marks the records whose budget has passed and returns them as items for the writer,
    /// oldest first (those the worker holds, then those in its mailbox).
    func sweep(now: ContinuousClock.Instant) -> [PipelineItem] {
        let cutoff = now - budget
        // Marked under the locks, encoded outside them: the feed hands records over
        // through the same mailbox lock.
        var marked: [FeedRecord] = []
        backlog.pending.withLock { pending in
            for index in pending.input.indices {
                let record = pending.input[index]
                guard record.arrival <= cutoff, !record.claimed, record.fallback == nil, record.transactionID != nil else { continue }
                pending.input[index].fallback = fallback
                marked.append(pending.input[index])
            }
        }
        input.updateQueued { record in
            guard record.arrival <= cutoff else { return false }  // the rest arrived later
            if record.fallback == nil, record.transactionID != nil {
                record.fallback = fallback
                marked.append(record)
            }
            return true
        }
        return marked.compactMap(answer)
    }

    /// The writer's item storing `record` with the fallback decision (nil for a rejected line,
    /// which needs no decision and goes straight to the writer anyway).
    private func answer(_ record: FeedRecord) -> PipelineItem? {
        guard case .transaction(let tx) = record.payload else { return nil }
        let row = TransactionRow(tx, rawLine: record.rawLine, peer: record.peer, session: record.session, decision: fallback)
        return PipelineItem(record: record, state: .replayed(row))
    }
}
