import Foundation

/// Reads the `alerts.rules` column: `[{"rule","severity","score","reason","on_error"}]`.
enum AlertRules {
    struct Hit {
        var rule: String
        var severity: String
        var score: Int64
        var reason: String
    }

    static func parse(_ text: String) -> [Hit] {
        guard let array = (try? JSONSerialization.jsonObject(with: Data(text.utf8))) as? [[String: Any]] else { return [] }
        return array.compactMap { object in
            guard let rule = object["rule"] as? String else { return nil }
            return Hit(
                rule: rule, severity: object["severity"] as? String ?? "", score: (object["score"] as? NSNumber)?.int64Value ?? 0,
                reason: object["reason"] as? String ?? "")
        }
    }
}
