import Cases
import Foundation
import HTTPAPI
import Hummingbird

/// Reads the JSON body of a case action into a ``CaseChange``, refusing with 400 what is
/// not JSON, has members the action does not take, or has the wrong types.
enum CaseRequestBody {
    static func change(_ action: String, request: Request) async throws -> CaseChange {
        var request = request
        // The body-limit middleware has already bounded it.
        let buffer = try await request.collectBody(upTo: .max)
        guard let object = (try? JSONSerialization.jsonObject(with: Data(buffer: buffer))) as? [String: Any] else {
            throw APIError(.badRequest, code: "invalid_json", message: "the body must be a JSON object (\(example(action)))")
        }
        let allowed: Set<String> =
            switch action {
            case "assign": ["assignee"]
            case "notes": ["text"]
            case "status": ["status"]
            default: ["disposition", "reason"]
            }
        if let unknown = object.keys.sorted().first(where: { !allowed.contains($0) }) {
            throw APIError(
                .badRequest, code: "invalid_request", message: "unknown member '\(unknown)'; \(action) takes \(example(action))")
        }
        func string(_ key: String, optional: Bool = false) throws -> String? {
            switch object[key] {
            case let text as String: return text
            case nil where optional, is NSNull where optional: return nil
            default:
                throw APIError(.badRequest, code: "invalid_request", message: "'\(key)' must be a string; \(action) takes \(example(action))")
            }
        }
        switch action {
        case "assign":
            guard object.keys.contains("assignee") else {
                throw APIError(.badRequest, code: "invalid_request", message: "'assignee' is required (null unassigns): \(example(action))")
            }
            return .assign(try string("assignee", optional: true))
        case "notes":
            return .note(try string("text") ?? "")
        case "status":
            let text = try string("status") ?? ""
            guard let status = CaseStatus(rawValue: text) else {
                throw APIError(.badRequest, code: "invalid_request", message: "'status' is '\(text)'; expected open or in_review")
            }
            return .status(status)
        default:
            let text = try string("disposition") ?? ""
            guard let disposition = Disposition(rawValue: text) else {
                throw APIError(
                    .badRequest, code: "invalid_request", message: "'disposition' is '\(text)'; expected fraud, legitimate or inconclusive")
            }
            return .close(disposition, reason: try string("reason", optional: true))
        }
    }

    static func example(_ action: String) -> String {
        switch action {
        case "assign": #"{"assignee":"name"} or {"assignee":null}"#
        case "notes": #"{"text":"..."}"#
        case "status": #"{"status":"in_review"}"#
        default: #"{"disposition":"fraud|legitimate|inconclusive","reason":"..."}"#
        }
    }
}
