import Detection
import PostgresStore
import VigilCore

/// An alert as committed, for live consumers (`/alerts/stream`) and webhook wake-ups.
public struct CommittedAlert: Sendable {
    public var id: Int64
    /// The case it joined or opened (``Cases``' grouping rule, applied at insert).
    public var caseID: Int64?
    public var transactionID: String
    public var accountID: String
    public var amount: Money
    public var severity: Severity
    public var totalScore: Int
    public var rules: [RuleHitRecord]
    public var rulesetVersion: String
    /// What the transaction's sender was answered (a fallback when `degraded` is set).
    public var decision: TransactionDecision? = nil
    /// When it was stored (`alerts.created_at`: the start of the writer's database transaction).
    public var createdAt: Timestamp? = nil
}

/// What one database transaction of the writer returns besides the records' outcomes:
/// the alerts it inserted (published after the commit) and the profiles it changed (for
/// the next checkpoint, with the transaction's `now()`, which is the rows' `received_at`).
struct WriteResult: Sendable {
    var alerts: [CommittedAlert] = []
    var profiles: [(account: String, profile: AccountProfile)] = []
    var entities: [(account: EntityKey, profile: EntityStats)] = []
    var batchTime: Timestamp?
}

/// Writes what detection decided, inside the batch's database transaction: rule hits,
/// alerts (and their webhook outbox rows) and the changed account profiles. Only
/// records stored by this batch count: a replay stored earlier raised its alert then.
enum DetectionWriter {
    /// Hook to enqueue webhook deliveries for a batch's alerts (each with its transaction's
    /// JSON) inside the same transaction.
    typealias AlertHook = @Sendable (_ alerts: [(alert: CommittedAlert, transactionJSON: String)], _ db: isolated PostgresConnection) throws -> Void

    /// What a batch's transaction writes besides its rows, worked out before any of it is
    /// written; `result` is what the caller gets back (the batch time filled in by `write`).
    struct Plan: Sendable {
        var result = WriteResult()
        /// `rule_hits` rows, in COPY text format.
        var hits = CopyTextEncoder()
        /// Ids decided late (after the event time's window had closed).
        var late: [String] = []
        var alerts: [(evaluation: Evaluation, alert: AlertRecord, rulesJSON: String, raw: [UInt8])] = []
        /// Fallbacks stored now: pending until their evaluation commits.
        var pending: [String] = []
        /// Late evaluations' ids: no longer pending once this commits.
        var evaluated: [String] = []

        /// Nothing to write: the batch's transaction holds its rows and nothing else.
        var writesNothing: Bool {
            hits.bytes.isEmpty && late.isEmpty && alerts.isEmpty && pending.isEmpty && evaluated.isEmpty
        }
    }

    /// Works out what to write for the decisions of `transactions` (the batch's
    /// transaction items, in the order the store was given their rows) whose positions are
    /// in `storedNow`, and of `lateEvaluations` (records stored earlier with the fallback
    /// decision).
    static func plan(_ transactions: [PipelineItem], storedNow: [Int], late lateEvaluations: [Evaluation] = []) -> Plan {
        var plan = Plan()
        var evaluations: [Evaluation] = []
        evaluations.reserveCapacity(storedNow.count + lateEvaluations.count)
        // Fallbacks stored now are evaluated after this commit: until that evaluation
        // commits they are pending, so a crash in between loses no alert.
        for index in storedNow {
            switch transactions[index].state {
            case .evaluated(let evaluation): evaluations.append(evaluation)
            case .replayed(let row) where transactions[index].record.fallback != nil: plan.pending.append(row.transaction.id)
            default: continue
            }
        }
        evaluations += lateEvaluations
        plan.evaluated = lateEvaluations.map(\.row.transaction.id)
        for evaluation in evaluations {
            let tx = evaluation.row.transaction
            let decision = evaluation.decision
            plan.result.profiles.append((tx.accountID, decision.profile))
            if let card = decision.entities.card, let id = tx.cardID { plan.result.entities.append((EntityKey(.card, id), card)) }
            if let device = decision.entities.device, let id = tx.deviceID { plan.result.entities.append((EntityKey(.device, id), device)) }
            if let merchant = decision.entities.merchant, let id = tx.merchantID {
                plan.result.entities.append((EntityKey(.merchant, id), merchant))
            }
            if decision.late { plan.late.append(tx.id) }
            plan.hits.appendRows(evaluation.hitRows.bytes)
            if let alert = evaluation.alert {
                plan.alerts.append((evaluation, alert.record, alert.rulesJSON, evaluation.row.rawLine))
            }
        }
        return plan
    }

    /// Writes the decisions of `transactions` whose positions are in `storedNow`, and of
    /// `lateEvaluations` (see `plan`), and returns what the caller publishes and
    /// checkpoints after the commit.
    static func write(
        _ transactions: [PipelineItem], storedNow: [Int], late lateEvaluations: [Evaluation] = [], on db: isolated PostgresConnection,
        alertHook: AlertHook?
    ) throws -> WriteResult {
        try write(plan(transactions, storedNow: storedNow, late: lateEvaluations), on: db, alertHook: alertHook)
    }

    /// Writes what `plan` holds in the current transaction of `db`.
    static func write(_ plan: Plan, on db: isolated PostgresConnection, alertHook: AlertHook?) throws -> WriteResult {
        var result = plan.result
        if !plan.pending.isEmpty {
            try db.execute(
                "INSERT INTO pending_evaluations (transaction_id) SELECT unnest(\(PostgresTextArray(plan.pending))::text[]) ON CONFLICT DO NOTHING")
        }
        if !plan.evaluated.isEmpty {
            try db.execute("DELETE FROM pending_evaluations WHERE transaction_id = ANY(\(PostgresTextArray(plan.evaluated))::text[])")
        }
        if !plan.alerts.isEmpty {
            result.alerts = try insertAlerts(plan.alerts, on: db, alertHook: alertHook)
        }
        if !plan.hits.bytes.isEmpty {
            try db.copyIn(
                """
                COPY rule_hits (transaction_id, rule_id, mode, severity, score, reason, on_error, ruleset_version) FROM STDIN
                """, data: plan.hits.bytes)
        }
        if !plan.late.isEmpty {
            // Rare, so a statement of its own rather than a column in every COPY row.
            try db.execute("UPDATE transactions SET late = true WHERE id = ANY(\(PostgresTextArray(plan.late))::text[])")
        }
        if !result.profiles.isEmpty {
            // The ingest transaction read its start (the same `now()`) as it began.
            result.batchTime = try db.transactionStart ?? db.query("SELECT now()").first?.decode(0, as: Timestamp.self)
        }
        return result
    }

    /// One statement for all the batch's alerts (an attack raises many at once), then the
    /// hook's outbox rows; returns the alerts as committed.
    private static func insertAlerts(
        _ pending: [(evaluation: Evaluation, alert: AlertRecord, rulesJSON: String, raw: [UInt8])],
        on db: isolated PostgresConnection, alertHook: AlertHook?
    ) throws -> [CommittedAlert] {
        let transactions = pending.map(\.evaluation.row.transaction)
        let rows = try db.query(
            """
            INSERT INTO alerts (transaction_id, account_id, amount_minor, currency, severity, total_score, rules, ruleset_version,
                                decision, decision_degraded, evidence)
            SELECT t, a, m, c, s, sc, r, v, nullif(d, ''), nullif(dg, ''), nullif(ev, '')::jsonb FROM unnest(\(PostgresTextArray(transactions.map(\.id)))::text[],
                                 \(PostgresTextArray(transactions.map(\.accountID)))::text[],
                                 \(PostgresTextArray(transactions.map { String($0.amount.minorUnits) }))::bigint[],
                                 \(PostgresTextArray(transactions.map(\.amount.currency.code)))::text[],
                                 \(PostgresTextArray(pending.map(\.alert.severity.rawValue)))::text[],
                                 \(PostgresTextArray(pending.map { String($0.alert.totalScore) }))::int[],
                                 \(PostgresTextArray(pending.map(\.rulesJSON)))::jsonb[],
                                 \(PostgresTextArray(pending.map(\.evaluation.decision.rulesetVersion)))::text[],
                                 \(PostgresTextArray(pending.map { $0.evaluation.row.decision?.outcome.rawValue ?? "" }))::text[],
                                 \(PostgresTextArray(pending.map { $0.evaluation.row.decision?.degraded?.rawValue ?? "" }))::text[],
                                 \(PostgresTextArray(pending.map { $0.evaluation.decision.evidenceJSON ?? "" }))::text[])
                AS batch(t, a, m, c, s, sc, r, v, d, dg, ev)
            RETURNING id, transaction_id, case_id, created_at
            """)
        var ids: [String: (alert: Int64, case: Int64?, createdAt: Timestamp)] = [:]
        for row in rows {
            ids[try row.decode(1, as: String.self)] = (
                try row.decode(0, as: Int64.self), try row.decodeIfPresent(2, as: Int64.self), try row.decode(3, as: Timestamp.self)
            )
        }
        var alerts: [CommittedAlert] = []
        var hooked: [(alert: CommittedAlert, transactionJSON: String)] = []
        for entry in pending {
            let tx = entry.evaluation.row.transaction
            guard let id = ids[tx.id] else { continue }
            let committed = CommittedAlert(
                id: id.alert, caseID: id.case, transactionID: tx.id, accountID: tx.accountID, amount: tx.amount,
                severity: entry.alert.severity, totalScore: entry.alert.totalScore, rules: entry.alert.hits,
                rulesetVersion: entry.evaluation.decision.rulesetVersion, decision: entry.evaluation.row.decision, createdAt: id.createdAt
            )
            alerts.append(committed)
            hooked.append((committed, String(decoding: entry.raw, as: UTF8.self)))
        }
        try alertHook?(hooked, db)
        return alerts
    }
}
