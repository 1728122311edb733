import Foundation
import VigilCore

/// One bind parameter in PostgreSQL's text format; `nil` text is SQL NULL.
public struct PostgresBinding: Sendable, Hashable {
    /// The value in PostgreSQL's text input format.
    public var text: String?
    /// SQL NULL.
    public static let null = PostgresBinding(text: nil)

    init(text: String?) { self.text = text }

    /// Encodes a value.
    public init(_ value: some PostgresEncodable) {
        self.text = value.postgresText
    }
}

/// A Swift value that can be sent as a bind parameter.
public protocol PostgresEncodable: Sendable {
    /// The value in PostgreSQL's text input format.
    var postgresText: String { get }
}

/// A Swift value that can be read from a result column in text format.
public protocol PostgresDecodable: Sendable {
    /// Decodes the text PostgreSQL sent; `nil` when it is not a valid value of the type.
    init?(postgresText: String)
}

extension String: PostgresEncodable, PostgresDecodable {
    public var postgresText: String { self }
    public init?(postgresText: String) { self = postgresText }
}

extension Int: PostgresEncodable, PostgresDecodable {
    public var postgresText: String { String(self) }
    public init?(postgresText: String) { self.init(postgresText) }
}

extension Int64: PostgresEncodable, PostgresDecodable {
    public var postgresText: String { String(self) }
    public init?(postgresText: String) { self.init(postgresText) }
}

extension Int32: PostgresEncodable, PostgresDecodable {
    public var postgresText: String { String(self) }
    public init?(postgresText: String) { self.init(postgresText) }
}

extension Bool: PostgresEncodable, PostgresDecodable {
    public var postgresText: String { self ? "t" : "f" }
    public init?(postgresText: String) {
        switch postgresText {
        case "t", "true": self = true
        case "f", "false": self = false
        default: return nil
        }
    }
}

extension Double: PostgresEncodable, PostgresDecodable {
    public var postgresText: String { String(self) }
    public init?(postgresText: String) { self.init(postgresText) }
}

extension Timestamp: PostgresEncodable, PostgresDecodable {
    /// RFC 3339 in UTC, which `timestamptz` accepts.
    public var postgresText: String { RFC3339.format(self) }

    /// Reads `timestamptz` output (`2026-11-24 10:15:00.123+00`, ISO DateStyle).
    public init?(postgresText: String) {
        var bytes = Array(postgresText.utf8)
        // PostgreSQL prints whole-hour offsets as `+00`; RFC 3339 wants `+00:00`.
        if bytes.count >= 3 {
            let sign = bytes[bytes.count - 3]
            if sign == UInt8(ascii: "+") || sign == UInt8(ascii: "-") {
                bytes.append(contentsOf: Array(":00".utf8))
            }
        }
        guard let parsed = RFC3339.parse(bytes) else { return nil }
        self = parsed
    }
}

/// A `jsonb`/`json` value sent or read as JSON text.
public struct PostgresJSON: PostgresEncodable, PostgresDecodable, Hashable {
    /// The JSON text.
    public var text: String
    /// Wraps JSON text (not validated here; the server validates it).
    public init(_ text: String) { self.text = text }
    public var postgresText: String { text }
    public init?(postgresText: String) { self.text = postgresText }
}

/// A `bytea` value, sent and read in PostgreSQL's hex format.
public struct PostgresBytes: PostgresEncodable, PostgresDecodable, Hashable {
    /// The bytes.
    public var bytes: [UInt8]
    /// Wraps bytes.
    public init(_ bytes: [UInt8]) { self.bytes = bytes }

    public var postgresText: String {
        let hex: [UInt8] = Array("0123456789abcdef".utf8)
        var out: [UInt8] = [UInt8(ascii: "\\"), UInt8(ascii: "x")]
        out.reserveCapacity(2 + bytes.count * 2)
        for b in bytes {
            out.append(hex[Int(b >> 4)])
            out.append(hex[Int(b & 0xF)])
        }
        return String(decoding: out, as: UTF8.self)
    }

    public init?(postgresText: String) {
        let utf8 = Array(postgresText.utf8)
        guard utf8.count >= 2, utf8[0] == UInt8(ascii: "\\"), utf8[1] == UInt8(ascii: "x"), utf8.count % 2 == 0 else { return nil }
        func nibble(_ c: UInt8) -> UInt8? {
            switch c {
            case 48...57: c - 48
            case 97...102: c - 87
            case 65...70: c - 55
            default: nil
            }
        }
        var out: [UInt8] = []
        out.reserveCapacity((utf8.count - 2) / 2)
        var i = 2
        while i < utf8.count {
            guard let hi = nibble(utf8[i]), let lo = nibble(utf8[i + 1]) else { return nil }
            out.append(hi << 4 | lo)
            i += 2
        }
        self.bytes = out
    }
}

/// A one-dimensional `text[]` value.
public struct PostgresTextArray: PostgresEncodable, PostgresDecodable, Hashable {
    /// The elements (no NULL elements).
    public var elements: [String]
    /// Wraps elements.
    public init(_ elements: [String]) { self.elements = elements }

    public var postgresText: String {
        // Built in bytes: this encodes the id lists of every batch, so it must not go
        // through Foundation's string searching.
        var bytes: [UInt8] = [UInt8(ascii: "{")]
        bytes.reserveCapacity(2 + elements.reduce(0) { $0 + $1.utf8.count + 3 })
        for (index, element) in elements.enumerated() {
            if index > 0 { bytes.append(UInt8(ascii: ",")) }
            bytes.append(UInt8(ascii: "\""))
            for byte in element.utf8 {
                if byte == UInt8(ascii: "\\") || byte == UInt8(ascii: "\"") { bytes.append(UInt8(ascii: "\\")) }
                bytes.append(byte)
            }
            bytes.append(UInt8(ascii: "\""))
        }
        bytes.append(UInt8(ascii: "}"))
        return String(decoding: bytes, as: UTF8.self)
    }

    public init?(postgresText: String) {
        let chars = Array(postgresText.utf8)
        guard chars.first == UInt8(ascii: "{"), chars.last == UInt8(ascii: "}") else { return nil }
        var elements: [String] = []
        var current: [UInt8] = []
        var i = 1
        var quoted = false
        var had = false
        while i < chars.count - 1 {
            let c = chars[i]
            if quoted {
                if c == UInt8(ascii: "\\"), i + 1 < chars.count - 1 {
                    current.append(chars[i + 1])
                    i += 2
                    continue
                }
                if c == UInt8(ascii: "\"") {
                    quoted = false
                    i += 1
                    continue
                }
                current.append(c)
            } else if c == UInt8(ascii: "\"") {
                quoted = true
                had = true
            } else if c == UInt8(ascii: ",") {
                elements.append(String(decoding: current, as: UTF8.self))
                current = []
                had = false
            } else {
                current.append(c)
                had = true
            }
            i += 1
        }
        if had || !current.isEmpty { elements.append(String(decoding: current, as: UTF8.self)) }
        self.elements = elements
    }
}
