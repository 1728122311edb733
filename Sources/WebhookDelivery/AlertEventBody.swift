import PostgresStore
import VigilCore

/// The body of an `alert.created` webhook, built as JSON text.
///
/// ```json
/// {"type":"alert.created","timestamp":"2026-11-24T10:15:00.123000Z",
///  "data":{"alert_id":42,"transaction_id":"tx-1","account_id":"acc-1",
///          "amount":"125.40","currency":"EUR","severity":"high","total_score":70,
///          "rules":[{"id":"velocity","severity":"high","score":40,"reason":"..."}],
///          "ruleset_version":"...","decision":"review","decision_degraded":null,
///          "created_at":"...","transaction":{...}}}
/// ```
/// The JSON Schema is `Schemas/webhook-alert-created.schema.json`.
public enum AlertEventBody {
    /// The event type of alert webhooks.
    public static let eventType = "alert.created"

    /// One rule that hit, as the body reports it.
    public struct RuleHit: Sendable, Hashable {
        /// The rule's id.
        public var id: String
        /// `low`, `medium`, `high` or `critical`.
        public var severity: String
        /// The rule's score contribution.
        public var score: Int
        /// The rendered reason.
        public var reason: String

        /// Creates a hit.
        public init(id: String, severity: String, score: Int, reason: String) {
            self.id = id
            self.severity = severity
            self.score = score
            self.reason = reason
        }

        /// The hit as stored by the pipeline (`rule_hits`).
        public init(_ record: RuleHitRecord) {
            self.init(id: record.ruleID, severity: record.severity.rawValue, score: record.score, reason: record.reason)
        }
    }

    /// Builds the body. Pure: the same inputs give the same bytes.
    ///
    /// - Parameters:
    ///   - transactionJSON: the transaction's JSON object text (the feed line), embedded
    ///     as an object. Text that is not one JSON object is embedded as a string under
    ///     `transaction_raw` instead (with `transaction` null), so the body is always valid
    ///     JSON and the enqueue inside the pipeline's transaction cannot fail on it.
    ///   - timestamp: the event's time (the envelope's `timestamp`); defaults to `createdAt`.
    ///   - decision: what the transaction's sender was answered (`allow`, `review`,
    ///     `block`), and `degraded` why it was the fallback (`budget`) rather than the
    ///     rules' decision; both null for an alert on a transaction stored before decisions.
    public static func make(
        alertID: Int64,
        transactionID: String,
        accountID: String,
        amount: Money,
        severity: String,
        totalScore: Int,
        rules: [RuleHit],
        rulesetVersion: String,
        createdAt: Timestamp,
        transactionJSON: String,
        timestamp: Timestamp? = nil,
        decision: DecisionOutcome? = nil,
        degraded: DegradedReason? = nil,
        caseID: Int64? = nil
    ) -> String {
        var out = ""
        out.reserveCapacity(512 + transactionJSON.utf8.count + rules.count * 160)
        out += "{\"type\":\"\(eventType)\",\"timestamp\":"
        JSONText.appendQuoted(RFC3339.format(timestamp ?? createdAt), to: &out)
        out += ",\"data\":{\"alert_id\":\(alertID),\"case_id\":\(caseID.map(String.init) ?? "null"),\"transaction_id\":"
        JSONText.appendQuoted(transactionID, to: &out)
        out += ",\"account_id\":"
        JSONText.appendQuoted(accountID, to: &out)
        out += ",\"amount\":"
        JSONText.appendQuoted(amount.decimalString, to: &out)
        out += ",\"currency\":"
        JSONText.appendQuoted(amount.currency.code, to: &out)
        out += ",\"severity\":"
        JSONText.appendQuoted(severity, to: &out)
        out += ",\"total_score\":\(totalScore),\"rules\":["
        for (index, rule) in rules.enumerated() {
            if index > 0 { out += "," }
            out += "{\"id\":"
            JSONText.appendQuoted(rule.id, to: &out)
            out += ",\"severity\":"
            JSONText.appendQuoted(rule.severity, to: &out)
            out += ",\"score\":\(rule.score),\"reason\":"
            JSONText.appendQuoted(rule.reason, to: &out)
            out += "}"
        }
        out += "],\"ruleset_version\":"
        JSONText.appendQuoted(rulesetVersion, to: &out)
        out += ",\"decision\":"
        if let decision { JSONText.appendQuoted(decision.rawValue, to: &out) } else { out += "null" }
        out += ",\"decision_degraded\":"
        if let degraded { JSONText.appendQuoted(degraded.rawValue, to: &out) } else { out += "null" }
        out += ",\"created_at\":"
        JSONText.appendQuoted(RFC3339.format(createdAt), to: &out)
        out += ",\"transaction\":"
        if WebhookJSON.isObject(transactionJSON) {
            out += transactionJSON.trimmingSpace()
        } else {
            out += "null,\"transaction_raw\":"
            JSONText.appendQuoted(transactionJSON, to: &out)
        }
        out += "}}"
        return out
    }
}

extension String {
    /// The text without leading and trailing JSON whitespace (a feed line's newline).
    fileprivate func trimmingSpace() -> Substring {
        let isSpace: (Character) -> Bool = { $0 == " " || $0 == "\n" || $0 == "\r" || $0 == "\t" || $0 == "\r\n" }
        guard let first = firstIndex(where: { !isSpace($0) }), let last = lastIndex(where: { !isSpace($0) }) else { return "" }
        return self[first...last]
    }
}
