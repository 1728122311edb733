/// A SQL statement whose values travel as bind parameters, never inside the SQL text.
///
/// Written as a string literal with interpolations; each interpolated value becomes
/// `$1`, `$2`, ... and is sent separately, so no value can change the statement:
/// ```swift
/// try await connection.query("SELECT id FROM transactions WHERE account_id = \(account)")
/// ```
/// There is deliberately no initializer that takes a runtime `String`: SQL text can
/// only come from literals in the code (and from migration files, inside this module).
public struct PostgresQuery: Sendable, ExpressibleByStringInterpolation {
    /// The SQL text with `$n` placeholders.
    public internal(set) var sql: String
    /// The parameters, in placeholder order; `nil` is SQL NULL.
    public internal(set) var bindings: [PostgresBinding]

    /// Interpolation that turns values into bind parameters.
    public struct StringInterpolation: StringInterpolationProtocol {
        var sql: String
        var bindings: [PostgresBinding] = []

        public init(literalCapacity: Int, interpolationCount: Int) {
            sql = ""
            sql.reserveCapacity(literalCapacity + interpolationCount * 3)
        }

        public mutating func appendLiteral(_ literal: StaticString) {
            sql += literal.description
        }

        /// Binds a value as the next parameter.
        public mutating func appendInterpolation(_ value: some PostgresEncodable) {
            bindings.append(PostgresBinding(value))
            sql += "$\(bindings.count)"
        }

        /// Binds an optional value; `nil` becomes SQL NULL.
        public mutating func appendInterpolation(_ value: (some PostgresEncodable)?) {
            bindings.append(value.map(PostgresBinding.init) ?? .null)
            sql += "$\(bindings.count)"
        }

        /// Appends a quoted identifier (table, column or channel name).
        public mutating func appendInterpolation(identifier: PostgresIdentifier) {
            sql += identifier.quoted
        }
    }

    /// A statement with no parameters. Only compile-time literals are accepted.
    public init(stringLiteral value: StaticString) {
        self.sql = value.description
        self.bindings = []
    }

    public init(stringInterpolation: StringInterpolation) {
        self.sql = stringInterpolation.sql
        self.bindings = stringInterpolation.bindings
    }

    /// SQL text read from a trusted file (migrations); module-internal on purpose.
    init(trustedSQL: String) {
        self.sql = trustedSQL
        self.bindings = []
    }

    /// A statement with positional `$n` parameters and their values, for statements
    /// built at start-up from constant fragments (batch inserts with many rows).
    public init(parameterized sql: StaticString, _ bindings: [PostgresBinding]) {
        self.sql = sql.description
        self.bindings = bindings
    }
}

/// A SQL identifier (table, column, channel), always sent double-quoted.
public struct PostgresIdentifier: Sendable, Hashable {
    /// The identifier as written, unquoted.
    public let name: String
    /// Creates an identifier; `nil` when it contains a NUL byte or is empty.
    public init?(_ name: String) {
        guard !name.isEmpty, !name.utf8.contains(0) else { return nil }
        self.name = name
    }
    /// The identifier double-quoted with embedded quotes doubled.
    public var quoted: String {
        "\"" + name.replacingOccurrences(of: "\"", with: "\"\"") + "\""
    }
}
