import Enrichment
import PostgresStore
import Synchronization
import VigilCore

/// An alert as committed, for live consumers (`/alerts/stream`) and webhook wake-ups.
public struct CommittedAlert: Sendable {
    public var id: Int64
    public var transactionID: String
    public var accountID: String
    public var amount: Money
    public var severity: String
    public var totalScore: Int
    public var rules: [RuleHitRecord]
    public var rulesetVersion: String
}

/// Writes what detection decided, inside the batch's database transaction: rule hits,
/// alerts (and their webhook outbox rows) and the changed account profiles. Only
/// records stored by this batch count: a replay stored earlier raised its alert then.
enum DetectionWriter {
    /// Hook to enqueue webhook deliveries for a batch's alerts (each with its transaction's
    /// JSON) inside the same transaction.
    typealias AlertHook = @Sendable (_ alerts: [(alert: CommittedAlert, transactionJSON: String)], _ db: isolated PostgresConnection) throws -> Void

    /// Writes the batch's decisions and collects the profiles it changed (with the
    /// batch's `received_at`) for the next checkpoint.
    static func write(_ batch: [PipelineItem], outcomes: [IngestOutcome], on db: isolated PostgresConnection,
                      alertHook: AlertHook?, committed: AlertCollector) throws {
        var hits = CopyTextEncoder()
        var profiles: [(account: String, profile: AccountProfile)] = []
        var late: [String] = []
        var pendingAlerts: [(tx: Transaction, alert: AlertRecord, hits: [RuleHitRecord], version: String, rulesJSON: String, raw: [UInt8])] = []
        for index in batch.indices {
            guard outcomes[index] == .stored, let detection = batch[index].detection,
                  case .transaction(let tx) = batch[index].record.payload else { continue }
            profiles.append((tx.accountID, detection.profile))
            if detection.late { late.append(tx.id) }
            if detection.hitRows.isEmpty && !detection.hits.isEmpty {
                var encoded = detection
                encode(&encoded, transactionID: tx.id)
                hits.appendRows(encoded.hitRows)
            } else {
                hits.appendRows(detection.hitRows)
            }
            guard let alert = detection.alert else { continue }
            let alertHits = detection.hits.filter { $0.mode == "alert" }
            let rulesJSON = detection.alertRulesJSON ?? Self.rulesJSON(alertHits)
            pendingAlerts.append((tx, alert, alertHits, detection.rulesetVersion, rulesJSON, batch[index].record.rawLine))
        }
        var alerts: [CommittedAlert] = []
        if !pendingAlerts.isEmpty {
            // One statement for all the batch's alerts (an attack raises many at once).
            let rows = try db.query("""
                INSERT INTO alerts (transaction_id, account_id, amount_minor, currency, severity, total_score, rules, ruleset_version)
                SELECT * FROM unnest(\(PostgresTextArray(pendingAlerts.map(\.tx.id)))::text[],
                                     \(PostgresTextArray(pendingAlerts.map(\.tx.accountID)))::text[],
                                     \(PostgresTextArray(pendingAlerts.map { String($0.tx.amount.minorUnits) }))::bigint[],
                                     \(PostgresTextArray(pendingAlerts.map(\.tx.amount.currency.code)))::text[],
                                     \(PostgresTextArray(pendingAlerts.map(\.alert.severity)))::text[],
                                     \(PostgresTextArray(pendingAlerts.map { String($0.alert.totalScore) }))::int[],
                                     \(PostgresTextArray(pendingAlerts.map(\.rulesJSON)))::jsonb[],
                                     \(PostgresTextArray(pendingAlerts.map(\.version)))::text[])
                RETURNING id, transaction_id
                """)
            var ids: [String: Int64] = [:]
            for row in rows { ids[try row.decode(1, as: String.self)] = try row.decode(0, as: Int64.self) }
            var hooked: [(alert: CommittedAlert, transactionJSON: String)] = []
            for pending in pendingAlerts {
                guard let id = ids[pending.tx.id] else { continue }
                let committedAlert = CommittedAlert(
                    id: id, transactionID: pending.tx.id, accountID: pending.tx.accountID, amount: pending.tx.amount,
                    severity: pending.alert.severity, totalScore: pending.alert.totalScore, rules: pending.hits,
                    rulesetVersion: pending.version
                )
                alerts.append(committedAlert)
                hooked.append((committedAlert, String(decoding: pending.raw, as: UTF8.self)))
            }
            try alertHook?(hooked, db)
        }
        if !hits.bytes.isEmpty {
            try db.copyIn("""
                COPY rule_hits (transaction_id, rule_id, mode, severity, score, reason, on_error, ruleset_version) FROM STDIN
                """, data: hits.bytes)
        }
        if !late.isEmpty {
            // Rare, so a statement of its own rather than a column in every COPY row.
            try db.execute("UPDATE transactions SET late = true WHERE id = ANY(\(PostgresTextArray(late))::text[])")
        }
        var batchTime: Timestamp?
        if !profiles.isEmpty {
            batchTime = try db.query("SELECT now()").first?.decode(0, as: Timestamp.self)
        }
        committed.alerts.withLock { $0 += alerts }
        if let batchTime {
            committed.profiles.withLock { $0 += profiles }
            committed.batchTime.withLock { $0 = batchTime }
        }
    }
}

extension DetectionWriter {
    /// Encodes what the writer will store for `detection` (its `rule_hits` rows and its
    /// alert's rules JSON). Called by the detection worker, which runs in parallel with
    /// the others, so the serial writer only concatenates.
    static func encode(_ detection: inout Detection, transactionID: String) {
        guard !detection.hits.isEmpty else { return }
        var rows = CopyTextEncoder(capacity: detection.hits.count * 160)
        for hit in detection.hits {
            rows.append(transactionID)
            rows.append(hit.ruleID)
            rows.append(hit.mode)
            rows.append(hit.severity)
            rows.append(Int64(hit.score))
            rows.append(hit.reason)
            rows.append(hit.onError ? "t" : "f")
            rows.append(detection.rulesetVersion)
            rows.endRow()
        }
        detection.hitRows = rows.bytes
        if detection.alert != nil {
            detection.alertRulesJSON = rulesJSON(detection.hits.filter { $0.mode == "alert" })
        }
    }

    /// The alert's `rules` column: its alert-mode hits as a JSON array.
    static func rulesJSON(_ alertHits: [RuleHitRecord]) -> String {
        "[" + alertHits.map { hit in
            "{\"rule\":\(JSONText.quoted(hit.ruleID)),\"severity\":\(JSONText.quoted(hit.severity)),\"score\":\(hit.score),"
                + "\"reason\":\(JSONText.quoted(hit.reason)),\"on_error\":\(hit.onError)}"
        }.joined(separator: ",") + "]"
    }
}

/// Collects the alerts a batch's transaction inserted, to publish after its commit.
final class AlertCollector: Sendable {
    let alerts = Mutex<[CommittedAlert]>([])
    /// Profiles changed by the batch's stored transactions.
    let profiles = Mutex<[(account: String, profile: AccountProfile)]>([])
    /// The batch transaction's `now()` (what its rows' `received_at` is).
    let batchTime = Mutex<Timestamp?>(nil)

    /// Takes the collected profiles, leaving none.
    func takeProfiles() -> (profiles: [(account: String, profile: AccountProfile)], through: Timestamp?) {
        let taken = profiles.withLock { p in defer { p = [] }; return p }
        return (taken, batchTime.withLock { t in defer { t = nil }; return t })
    }

    /// Takes the collected alerts, leaving none.
    func take() -> [CommittedAlert] {
        alerts.withLock { a in defer { a = [] }; return a }
    }
}
