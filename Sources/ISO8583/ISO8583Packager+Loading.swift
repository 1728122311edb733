import Foundation

/// A packager file that cannot be used: where (file and JSON path) and what to change.
public struct ISO8583PackagerError: Error, Sendable, Hashable, CustomStringConvertible {
    /// The file read.
    public var file: String
    /// The JSON path of the offending value, e.g. `fields[3].max` (empty for the whole file).
    public var location: String
    /// What is wrong and what is expected.
    public var message: String

    public var description: String { location.isEmpty ? "\(file): \(message)" : "\(file): \(location): \(message)" }
}

extension ISO8583Packager {
    /// Reads and validates the packager file at `path`; every problem is reported at once,
    /// each with its JSON path.
    public static func load(path: String) throws(ISO8583PackagerErrors) -> ISO8583Packager {
        guard let data = FileManager.default.contents(atPath: path) else {
            throw ISO8583PackagerErrors([
                ISO8583PackagerError(file: path, location: "", message: "cannot read the file; check the path given to --iso8583-packager")
            ])
        }
        return try load(contentsOf: data, path: path)
    }

    /// Validates a packager from the bytes of its file (`path` names it in errors).
    public static func load(contentsOf data: Data, path: String) throws(ISO8583PackagerErrors) -> ISO8583Packager {
        var reader = PackagerReader(file: path)
        let packager = reader.read(data)
        guard reader.errors.isEmpty, let packager else { throw ISO8583PackagerErrors(reader.errors) }
        return packager
    }
}

/// Every problem found in one packager file.
public struct ISO8583PackagerErrors: Error, Sendable, CustomStringConvertible {
    /// The problems, in file order.
    public var errors: [ISO8583PackagerError]

    init(_ errors: [ISO8583PackagerError]) { self.errors = errors }

    public var description: String { errors.map(\.description).joined(separator: "\n") }
}

/// Walks the parsed JSON, collecting errors instead of stopping at the first.
private struct PackagerReader {
    let file: String
    var errors: [ISO8583PackagerError] = []

    init(file: String) { self.file = file }

    mutating func fail(_ location: String, _ message: String) {
        errors.append(ISO8583PackagerError(file: file, location: location, message: message))
    }

    mutating func read(_ data: Data) -> ISO8583Packager? {
        let parsed: Any
        do {
            parsed = try JSONSerialization.jsonObject(with: data)
        } catch {
            fail("", "not valid JSON (\((error as NSError).userInfo["NSDebugDescription"] ?? error)); a packager file is one JSON object")
            return nil
        }
        guard let root = parsed as? [String: Any] else {
            fail("", "the top level must be a JSON object with name, length_header, bitmap, binary and fields")
            return nil
        }
        checkKeys(root, at: "", known: ["name", "description", "length_header", "bitmap", "binary", "fields"])
        let name = root["name"] as? String ?? ""
        if name.isEmpty { fail("name", "give the dialect a name (a non-empty string), e.g. \"iso87ascii\"") }
        let header: ISO8583Packager.LengthHeader? = choice(root["length_header"], at: "length_header")
        let bitmap: ISO8583Packager.BitmapEncoding? = choice(root["bitmap"], at: "bitmap")
        let binary: ISO8583Packager.BinaryEncoding? = choice(root["binary"], at: "binary")
        guard let list = root["fields"] as? [Any] else {
            fail("fields", "must be an array of field objects like {\"field\": 11, \"type\": \"n\", \"length\": \"fixed\", \"max\": 6}")
            return nil
        }
        var specs: [ISO8583FieldSpec] = []
        var seen = Set<Int>()
        for (index, element) in list.enumerated() {
            let at = "fields[\(index)]"
            guard let spec = field(element, at: at) else { continue }
            if !seen.insert(spec.number).inserted {
                fail("\(at).field", "field \(spec.number) is described twice; keep one description per field")
                continue
            }
            specs.append(spec)
        }
        guard let header, let bitmap, let binary else { return nil }
        return ISO8583Packager(name: name, lengthHeader: header, bitmap: bitmap, binary: binary, specs: specs)
    }

    private mutating func field(_ element: Any, at: String) -> ISO8583FieldSpec? {
        guard let object = element as? [String: Any] else {
            fail(at, "must be an object with field, type, length and max")
            return nil
        }
        checkKeys(object, at: at, known: ["field", "type", "length", "max", "name"])
        let number = integer(object["field"], at: "\(at).field")
        if let number, number < 2 || number > 128 {
            fail(
                "\(at).field", "\(number) is not a data field; fields are numbered 2 to 128 (the MTI and field 1, the secondary bitmap, are implied)")
        }
        let type: ISO8583FieldSpec.ContentType? = choice(object["type"], at: "\(at).type")
        let length: ISO8583FieldSpec.LengthRule? = choice(object["length"], at: "\(at).length")
        let max = integer(object["max"], at: "\(at).max")
        let name = object["name"] as? String ?? ""
        guard let number, (2...128).contains(number), let type, let length, let max else { return nil }
        let limit: Int
        switch length {
        case .fixed: limit = 999
        case .llvar: limit = 99
        case .lllvar: limit = 999
        }
        guard max >= 1, max <= limit else {
            fail("\(at).max", "\(max) is out of range for a \(length.rawValue) field: 1 to \(limit)")
            return nil
        }
        return ISO8583FieldSpec(number: number, type: type, length: length, max: max, name: name.isEmpty ? "field \(number)" : name)
    }

    private mutating func checkKeys(_ object: [String: Any], at: String, known: Set<String>) {
        for key in object.keys.sorted() where !known.contains(key) {
            let place = at.isEmpty ? key : "\(at).\(key)"
            fail(place, "unknown key; the keys here are \(known.sorted().joined(separator: ", "))")
        }
    }

    private mutating func integer(_ value: Any?, at: String) -> Int? {
        // (On Linux a JSON `true` also reads as 1; the value is range-checked after.)
        guard let int = value as? Int else {
            fail(at, value == nil ? "is missing; give a whole number" : "must be a whole number")
            return nil
        }
        return int
    }

    private mutating func choice<T: RawRepresentable & CaseIterable>(_ value: Any?, at: String) -> T? where T.RawValue == String {
        let allowed = T.allCases.map(\.rawValue).joined(separator: ", ")
        guard let text = value as? String else {
            fail(at, value == nil ? "is missing; one of \(allowed)" : "must be a string, one of \(allowed)")
            return nil
        }
        guard let result = T(rawValue: text) else {
            fail(at, "\"\(text)\" is not one of \(allowed)")
            return nil
        }
        return result
    }
}
