import Foundation
import Yams

/// `docs/api/openapi.yaml`, read for the API tests: the routes it documents and a checker
/// of a response body against the schema it declares for that route and status.
///
/// The checker knows the JSON Schema keywords the document uses (type, enum, const,
/// properties, required, additionalProperties, items, $ref, pattern, minimum, maximum) and
/// fails on any other keyword, so the document cannot use one that is silently not checked.
struct OpenAPIDocument {
    let root: [String: Any]

    static func load() throws -> OpenAPIDocument {
        let url = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent()
            .appendingPathComponent("docs/api/openapi.yaml")
        let text = try String(contentsOf: url, encoding: .utf8)
        guard let root = try Yams.load(yaml: text) as? [String: Any] else { throw SchemaProblem("openapi.yaml is not a mapping") }
        return OpenAPIDocument(root: root)
    }

    /// `METHOD /path/{param}` for every operation.
    var operations: Set<String> {
        var result: Set<String> = []
        for (path, item) in (root["paths"] as? [String: Any]) ?? [:] {
            for method in ((item as? [String: Any]) ?? [:]).keys where ["get", "post", "put", "patch", "delete"].contains(method) {
                result.insert("\(method.uppercased()) \(path)")
            }
        }
        return result
    }

    /// Problems of `body` against the schema of `method path` answering `status` (empty: conforms).
    func check(method: String, path: String, status: Int, body: String) -> [String] {
        guard let operation = (root["paths"] as? [String: Any])?[path].flatMap({ ($0 as? [String: Any])?[method.lowercased()] }) as? [String: Any]
        else { return ["\(method) \(path) is not in openapi.yaml"] }
        guard var response = (operation["responses"] as? [String: Any])?[String(status)] as? [String: Any] else {
            return ["\(method) \(path) documents no \(status) response"]
        }
        if let ref = response["$ref"] as? String, let resolved = resolve(ref) { response = resolved }
        guard let schema = ((response["content"] as? [String: Any])?["application/json"] as? [String: Any])?["schema"] else {
            return ["\(method) \(path) \(status) has no application/json schema"]
        }
        guard let value = try? JSONSerialization.jsonObject(with: Data(body.utf8), options: [.fragmentsAllowed]) else {
            return ["\(method) \(path) \(status): the body is not JSON: \(body.prefix(200))"]
        }
        var problems: [String] = []
        validate(value, against: schema, at: "$", problems: &problems)
        return problems.map { "\(method) \(path) \(status): \($0)" }
    }

    private func resolve(_ ref: String) -> [String: Any]? {
        guard ref.hasPrefix("#/") else { return nil }
        var node: Any? = root
        for part in ref.dropFirst(2).split(separator: "/") { node = (node as? [String: Any])?[String(part)] }
        return node as? [String: Any]
    }

    private static let known: Set<String> = [
        "type", "enum", "const", "properties", "required", "additionalProperties", "items", "$ref", "pattern", "minimum", "maximum",
        "description", "format", "default",
    ]

    private func validate(_ value: Any, against schemaNode: Any, at path: String, problems: inout [String]) {
        guard var schema = schemaNode as? [String: Any] else { return problems.append("\(path): schema is not a mapping") }
        if let ref = schema["$ref"] as? String {
            guard let resolved = resolve(ref) else { return problems.append("\(path): unresolvable \(ref)") }
            schema = resolved
        }
        if let unknown = schema.keys.first(where: { !Self.known.contains($0) }) {
            problems.append("\(path): the checker does not know keyword '\(unknown)'")
        }
        if let types = schema["type"] {
            let allowed = (types as? [Any] ?? [types]).map { "\($0)" }
            guard allowed.contains(where: { Self.matches(value, type: $0) }) else {
                return problems.append("\(path): \(Self.describe(value)) is not \(allowed.joined(separator: " or "))")
            }
        }
        if let options = schema["enum"] as? [Any] {
            guard options.contains(where: { Self.equal($0, value) }) else {
                return problems.append("\(path): \(Self.describe(value)) is not one of \(options)")
            }
        }
        if let constant = schema["const"], !Self.equal(constant, value) { problems.append("\(path): \(Self.describe(value)) is not \(constant)") }
        if let pattern = schema["pattern"] as? String, let text = value as? String,
            text.range(of: pattern, options: .regularExpression) == nil
        {
            problems.append("\(path): '\(text)' does not match \(pattern)")
        }
        if let number = Self.double(value), !Self.isBool(value) {
            if let minimum = schema["minimum"].flatMap(Self.double), number < minimum { problems.append("\(path): \(number) is below \(minimum)") }
            if let maximum = schema["maximum"].flatMap(Self.double), number > maximum { problems.append("\(path): \(number) is above \(maximum)") }
        }
        if let object = value as? [String: Any] {
            let properties = schema["properties"] as? [String: Any] ?? [:]
            for key in schema["required"] as? [String] ?? [] where object[key] == nil { problems.append("\(path): '\(key)' is missing") }
            for (key, member) in object {
                if let property = properties[key] {
                    validate(member, against: property, at: "\(path).\(key)", problems: &problems)
                } else if (schema["additionalProperties"] as? Bool) == false {
                    problems.append("\(path): '\(key)' is not in the schema")
                }
            }
        }
        if let array = value as? [Any], let items = schema["items"] {
            for (index, item) in array.enumerated() { validate(item, against: items, at: "\(path)[\(index)]", problems: &problems) }
        }
    }

    private static func matches(_ value: Any, type: String) -> Bool {
        switch type {
        case "null": return value is NSNull
        case "object": return value is [String: Any]
        case "array": return value is [Any]
        case "string": return value is String
        case "boolean": return isBool(value)
        case "integer":
            guard let number = double(value), !isBool(value) else { return false }
            return number == number.rounded()
        case "number": return double(value) != nil && !isBool(value)
        default: return false
        }
    }

    private static func isBool(_ value: Any) -> Bool {
        if value is Bool && !(value is NSNumber) { return true }
        guard let number = value as? NSNumber else { return false }
        return String(cString: number.objCType) == "c"
    }

    private static func double(_ value: Any) -> Double? {
        switch value {
        case let int as Int: Double(int)
        case let double as Double: double
        case let number as NSNumber: number.doubleValue
        default: nil
        }
    }

    private static func equal(_ a: Any, _ b: Any) -> Bool {
        if a is NSNull || b is NSNull { return a is NSNull && b is NSNull }
        return "\(a)" == "\(b)" && (a is String) == (b is String)
    }

    private static func describe(_ value: Any) -> String {
        guard let data = try? JSONSerialization.data(withJSONObject: value, options: [.fragmentsAllowed]) else { return "\(value)" }
        return String(decoding: data.prefix(120), as: UTF8.self)
    }
}

struct SchemaProblem: Error, CustomStringConvertible {
    var description: String
    init(_ description: String) { self.description = description }
}
