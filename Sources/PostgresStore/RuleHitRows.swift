import VigilCore

/// A transaction's rule hits encoded once as `rule_hits` rows in COPY text (detection
/// workers run in parallel and build these; the serial writer only concatenates).
public struct RuleHitRows: Sendable {
    /// The rows (empty when nothing hit).
    public let bytes: [UInt8]

    /// Encodes `hits` of transaction `transactionID`, decided by ruleset `rulesetVersion`.
    public init(_ hits: [RuleHitRecord], transactionID: String, rulesetVersion: String) {
        guard !hits.isEmpty else {
            bytes = []
            return
        }
        var rows = CopyTextEncoder(capacity: hits.count * 160)
        for hit in hits {
            rows.append(transactionID)
            rows.append(hit.ruleID)
            rows.append(hit.mode.rawValue)
            rows.append(hit.severity.rawValue)
            rows.append(Int64(hit.score))
            rows.append(hit.reason)
            rows.append(hit.onError ? "t" : "f")
            rows.append(rulesetVersion)
            rows.endRow()
        }
        bytes = rows.bytes
    }
}
