import VigilCore

/// A JSON value built in order (keys keep the order they were given), rendered as text.
/// The investigator API and `vigil cases` answer with it.
public indirect enum JSON: Sendable, Equatable {
    case null
    case bool(Bool)
    case int(Int64)
    case string(String)
    /// Text that is already JSON (a `jsonb` column read as text).
    case raw(String)
    case array([JSON])
    case object([(String, JSON)])

    /// A string, or null.
    public static func string(_ text: String?) -> JSON { text.map { .string($0) } ?? .null }

    /// A timestamp as RFC 3339 UTC text, or null.
    public static func time(_ time: Timestamp?) -> JSON { time.map { .string(RFC3339.format($0)) } ?? .null }

    /// An integer, or null.
    public static func int(_ value: Int64?) -> JSON { value.map { .int($0) } ?? .null }

    /// The compact text.
    public var text: String {
        var out = ""
        write(to: &out)
        return out
    }

    /// Appends the compact text to `out`.
    public func write(to out: inout String) {
        switch self {
        case .null: out += "null"
        case .bool(let value): out += value ? "true" : "false"
        case .int(let value): out += String(value)
        case .string(let value): JSONText.appendQuoted(value, to: &out)
        case .raw(let text): out += text
        case .array(let items):
            out += "["
            for (index, item) in items.enumerated() {
                if index > 0 { out += "," }
                item.write(to: &out)
            }
            out += "]"
        case .object(let members):
            out += "{"
            for (index, member) in members.enumerated() {
                if index > 0 { out += "," }
                JSONText.appendQuoted(member.0, to: &out)
                out += ":"
                member.1.write(to: &out)
            }
            out += "}"
        }
    }

    public static func == (lhs: JSON, rhs: JSON) -> Bool { lhs.text == rhs.text }
}

extension JSON {
    /// An object's member, or nil.
    public subscript(key: String) -> JSON? {
        guard case .object(let members) = self else { return nil }
        return members.first { $0.0 == key }?.1
    }

    /// The value as short text for a table cell: strings unquoted, null as `-`.
    public var cell: String {
        switch self {
        case .null: "-"
        case .string(let s): s
        case .int(let i): String(i)
        case .bool(let b): b ? "true" : "false"
        default: text
        }
    }
}
