import RuleLanguage
import VigilCore

/// What the rules saw when an alert was raised, kept with the alert (`alerts.evidence`) so
/// an investigator reads the values of decision time, not today's: every enrichment and
/// window value that was present, and for each rule that hit the value of every
/// sub-expression of its condition (the `vigil rules explain` trace).
///
/// ```json
/// {"values":{"amount":"120.00","profile.count":14,"window.txn_per_card_10m":6,...},
///  "explain":[{"rule":"card_testing","trace":[{"depth":0,"expr":"(... and ...)","type":"bool","value":true},...]}]}
/// ```
/// Money and other decimals are strings (exact), times RFC 3339 strings, durations `10m`,
/// an absent value `null`, an evaluation error `{"error":"..."}`.
public enum AlertEvidence {
    /// The evidence of one decision, as JSON text. Only called for alerted transactions
    /// (about one in a hundred), so the trace's per-node evaluation is affordable.
    public static func json(record: EvaluationRecord, ruleset: CompiledRuleset, lists: ListSnapshot, hits: [RuleHitRecord]) -> String {
        var out = "{\"values\":{"
        var first = true
        for field in Field.allCases {
            let value = record[field]
            guard value.isPresent else { continue }
            if !first { out += "," }
            first = false
            JSONText.appendQuoted(field.name, to: &out)
            out += ":"
            append(value, to: &out)
        }
        for window in ruleset.windows where window.slot < record.windows.count {
            let value = record.window(window.slot)
            guard value.isPresent else { continue }
            if !first { out += "," }
            first = false
            JSONText.appendQuoted("window." + window.name, to: &out)
            out += ":"
            append(value, to: &out)
        }
        out += "},\"explain\":["
        var firstRule = true
        for hit in hits {
            guard let rule = ruleset.rules.first(where: { $0.id == hit.ruleID }) else { continue }
            if !firstRule { out += "," }
            firstRule = false
            out += "{\"rule\":"
            JSONText.appendQuoted(rule.id, to: &out)
            out += ",\"trace\":["
            for (index, line) in Explain.trace(rule, in: ruleset, record: record, lists: lists).enumerated() {
                if index > 0 { out += "," }
                out += "{\"depth\":\(line.depth),\"expr\":"
                JSONText.appendQuoted(line.text, to: &out)
                out += ",\"type\":"
                JSONText.appendQuoted(line.type.description, to: &out)
                out += ",\"value\":"
                append(line.value, to: &out)
                out += "}"
            }
            out += "]}"
        }
        return out + "]}"
    }

    static func append(_ value: Value, to out: inout String) {
        switch value {
        case .absent: out += "null"
        case .bool(let b): out += b ? "true" : "false"
        case .int(let i): out += String(i)
        case .decimal(let d): JSONText.appendQuoted(d.description, to: &out)
        case .string(let s): JSONText.appendQuoted(s, to: &out)
        case .timestamp, .duration: JSONText.appendQuoted(value.description, to: &out)
        case .error(let e):
            out += "{\"error\":"
            JSONText.appendQuoted("\(e)", to: &out)
            out += "}"
        }
    }
}
