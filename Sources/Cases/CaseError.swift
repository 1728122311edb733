/// Why a case query or action was refused: a stable code, a message that says what to do,
/// and the HTTP status the API answers with.
public struct CaseError: Error, Sendable, Equatable, CustomStringConvertible {
    /// What kind of refusal, which decides the HTTP status.
    public enum Kind: Sendable, Equatable {
        /// The request itself is wrong (an unknown filter, a bad cursor): 400.
        case invalidRequest
        /// No such case, alert or transaction: 404.
        case notFound
        /// The request is well formed but the case's state does not allow it: 409.
        case conflict
    }

    /// The kind.
    public var kind: Kind
    /// A stable, machine-readable code (`invalid_filter`, `invalid_transition`, ...).
    public var code: String
    /// What was wrong and what to do.
    public var message: String

    /// Creates an error.
    public init(_ kind: Kind, code: String, message: String) {
        self.kind = kind
        self.code = code
        self.message = message
    }

    /// The HTTP status code for `kind`.
    public var status: Int {
        switch kind {
        case .invalidRequest: 400
        case .notFound: 404
        case .conflict: 409
        }
    }

    public var description: String { "\(code): \(message)" }
}
