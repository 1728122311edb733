import Detection
import FeedProtocol
import FeedServer
import PostgresStore
import VigilCore

/// A record on its way to the writer, in the one state it can be in there; it carries its
/// way back to the sender (`record.reply`), and `reply(for:)` turns the writer's outcome
/// into the answer (as a Broadway message carries its acknowledger and status).
///
/// Flow, one way: the feed hands a `FeedRecord` to its account's detection partition (or,
/// rejected, straight here); the worker makes it `.evaluated` or `.replayed`; the writer
/// stores the batch and answers each record once its transaction commits.
///
/// A class, not a struct: the item is copied at every hand-over (mailboxes, the writer's
/// batch and its per-kind lists), and a struct copy retained every reference it holds
/// (a transaction's strings, the raw line, the evaluation's rows): a quarter of the
/// server's CPU under load went to those retains and releases. Both fields are
/// constants, so sharing one instance is safe.
public final class PipelineItem: Sendable {
    /// The record as read from the feed, with its way back to the sender.
    public let record: FeedRecord
    /// What the writer is to do with it.
    public let state: State

    /// The states a record reaches the writer in.
    public enum State: Sendable {
        /// A line that failed validation: stored in `rejected_records`, nacked.
        case rejected(FeedRejection)
        /// A transaction not evaluated, because its id was seen recently or is already
        /// stored (a sender's replay) or was in flight elsewhere (or there is no detection
        /// partition): stored once if it is new after all, acked as a duplicate if it is a
        /// replay, nacked if it conflicts.
        case replayed(TransactionRow)
        /// A transaction detection decided, with everything the writer stores for it.
        case evaluated(Evaluation)
        /// A transaction stored and answered with the fallback decision (detection missed
        /// the budget), evaluated since: the writer stores its hits, alert and profile,
        /// and neither stores the row again nor answers it again.
        case lateEvaluation(Evaluation)
    }

    /// Creates an item.
    public init(record: FeedRecord, state: State) {
        self.record = record
        self.state = state
    }

    /// The item for a record that did not go through detection (a rejected line, or a
    /// transaction with no detection partition to go to); `decision` is stored with it if
    /// it turns out new.
    init(unevaluated record: FeedRecord, decision: TransactionDecision) {
        self.record = record
        switch record.payload {
        case .rejected(let rejection): state = .rejected(rejection)
        case .transaction(let tx):
            state = .replayed(TransactionRow(tx, rawLine: record.rawLine, peer: record.peer, session: record.session, decision: decision))
        }
    }
}

/// A transaction with what detection decided, encoded for storage by the worker (workers
/// run in parallel; the serial writer only concatenates).
/// A class for the same reason as ``PipelineItem``: it is handed on and read, never changed.
public final class Evaluation: Sendable {
    /// The transaction's `transactions` row and content digest.
    public let row: TransactionRow
    /// What detection decided.
    public let decision: Decision
    /// The decision's hits as `rule_hits` rows (empty when nothing hit).
    let hitRows: RuleHitRows
    /// The alert with its `rules` JSON, when alert-mode rules hit.
    let alert: (record: AlertRecord, rulesJSON: String)?

    /// Encodes `decision` for `row`'s transaction.
    public init(row: TransactionRow, decision: Decision) {
        self.row = row
        self.decision = decision
        hitRows = RuleHitRows(decision.hits, transactionID: row.transaction.id, rulesetVersion: decision.rulesetVersion)
        alert = decision.alert.map { ($0, $0.rulesJSON) }
    }
}
