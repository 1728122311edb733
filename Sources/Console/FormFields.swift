import Foundation
import Hummingbird

/// The fields of an `application/x-www-form-urlencoded` body or a query string.
struct FormFields: Sendable {
    private var values: [String: String] = [:]

    /// Parses `a=1&b=two+words`; a name given twice keeps its first value.
    init(_ text: String) {
        for pair in text.split(separator: "&") {
            let parts = pair.split(separator: "=", maxSplits: 1, omittingEmptySubsequences: false)
            guard let name = Self.decode(parts[0]), !name.isEmpty, values[name] == nil else { continue }
            values[name] = parts.count > 1 ? (Self.decode(parts[1]) ?? "") : ""
        }
    }

    /// The value of `name`, nil when absent.
    subscript(_ name: String) -> String? { values[name] }

    /// The non-empty value of `name`, trimmed.
    func nonEmpty(_ name: String) -> String? {
        guard let value = values[name]?.trimmingCharacters(in: .whitespaces), !value.isEmpty else { return nil }
        return value
    }

    private static func decode(_ part: Substring) -> String? {
        part.replacingOccurrences(of: "+", with: " ").removingPercentEncoding
    }

    /// The form a request carries (read once: pass the same `request` on afterwards).
    static func of(_ request: inout Request) async throws -> FormFields {
        FormFields(String(buffer: try await request.collectBody(upTo: 64 * 1024)))
    }
}
