/// An error from the PostgreSQL store: what failed, PostgreSQL's SQLSTATE when the
/// server reported one, and a message that says what to do.
public struct PostgresError: Error, Sendable, CustomStringConvertible {
    /// The kind of failure.
    public struct Code: Sendable, Hashable, CustomStringConvertible {
        enum Base: String, Sendable {
            case connectionFailed, connectionLost, server, copyFailed, decoding, migration, misuse
        }
        let base: Base
        /// The connection could not be opened (wrong host, refused, bad credentials).
        public static let connectionFailed = Code(base: .connectionFailed)
        /// An open connection broke (server restarted, backend terminated, network).
        public static let connectionLost = Code(base: .connectionLost)
        /// The server rejected a statement; see `sqlState`.
        public static let server = Code(base: .server)
        /// A `COPY ... FROM STDIN` could not be sent.
        public static let copyFailed = Code(base: .copyFailed)
        /// A result value could not be read as the requested Swift type.
        public static let decoding = Code(base: .decoding)
        /// The migration files or the recorded history are inconsistent.
        public static let migration = Code(base: .migration)
        /// The API was used in a way it does not support.
        public static let misuse = Code(base: .misuse)
        public var description: String { base.rawValue }
    }

    /// The kind of failure.
    public var code: Code
    /// PostgreSQL's five-character SQLSTATE (e.g. `23505` unique violation), when known.
    public var sqlState: String?
    /// The primary message, from PostgreSQL or from Vigil.
    public var message: String
    /// PostgreSQL's DETAIL field, when present.
    public var detail: String?
    /// PostgreSQL's HINT field, or Vigil's advice on what to do.
    public var hint: String?

    /// Creates an error.
    public init(code: Code, sqlState: String? = nil, message: String, detail: String? = nil, hint: String? = nil) {
        self.code = code
        self.sqlState = sqlState
        self.message = message
        self.detail = detail
        self.hint = hint
    }

    /// Whether the error means the connection is gone and a new one is needed.
    public var isConnectionError: Bool {
        code == .connectionLost || code == .connectionFailed
            || sqlState.map { $0.hasPrefix("08") || $0 == "57P01" || $0 == "57P02" || $0 == "57P03" } == true
    }

    /// SQLSTATE 23505: a unique constraint was violated.
    public var isUniqueViolation: Bool { sqlState == "23505" }

    public var description: String {
        var text = message
        if let sqlState { text += " (SQLSTATE \(sqlState))" }
        if let detail { text += "; \(detail)" }
        if let hint { text += " — \(hint)" }
        return text
    }
}
