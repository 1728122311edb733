import SWXMLHash
import VigilCore

/// An element reached by local names (namespace prefixes ignored), with its path for errors.
struct XMLPath {
    let node: XMLIndexer
    let path: String

    init(_ node: XMLIndexer, path: String) {
        self.node = node
        self.path = path
    }

    var element: SWXMLHash.XMLElement? { node.element }

    /// The name without its namespace prefix.
    static func local(_ name: String) -> Substring {
        name.split(separator: ":").last ?? Substring(name)
    }

    /// Every child element called `name`, each with its path (`Name[2]` from the second on).
    func all(_ name: String) -> [XMLPath] {
        let matches = node.children.filter { $0.element.map { Self.local($0.name) == name } ?? false }
        return matches.enumerated().map { index, child in
            XMLPath(child, path: (path.isEmpty ? "" : path + "/") + name + (matches.count > 1 ? "[\(index + 1)]" : ""))
        }
    }

    func optional(_ name: String) -> XMLPath? { all(name).first }

    func required(_ name: String) throws(ISO20022Error) -> XMLPath {
        guard let found = optional(name) else {
            throw ISO20022Error(code: .missingElement, path: (path.isEmpty ? "" : path + "/") + name, message: "required by pacs.008.001.08")
        }
        return found
    }

    func text(_ name: String, maxLength: Int) throws(ISO20022Error) -> String {
        let child = try required(name)
        let value = child.element?.text ?? ""
        guard !value.isEmpty, value.count <= maxLength, !value.unicodeScalars.contains(where: { $0.value < 0x20 }) else {
            throw ISO20022Error(code: .invalidElement, path: child.path, message: "must be 1 to \(maxLength) characters of text")
        }
        return value
    }

    func optionalText(_ name: String, maxLength: Int) throws(ISO20022Error) -> String? {
        guard optional(name) != nil else { return nil }
        return try text(name, maxLength: maxLength)
    }

    func timestamp(_ name: String) throws(ISO20022Error) -> Timestamp {
        let child = try required(name)
        let value = child.element?.text ?? ""
        // ISO 20022 date-times may omit the offset (local time); Vigil's times are UTC, so one is required.
        guard let stamp = RFC3339.parse(value) else {
            throw ISO20022Error(
                code: .invalidElement, path: child.path, message: "\"\(value)\" is not a date-time with its UTC offset, like 2026-12-01T10:15:00Z")
        }
        return stamp
    }
}
