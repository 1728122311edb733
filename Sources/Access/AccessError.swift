/// An error of tokens and the audit log, with what to do about it.
public struct AccessError: Error, Sendable, Equatable, CustomStringConvertible {
    /// What went wrong.
    public enum Code: String, Sendable {
        case nameTaken = "name_taken"
        case noSuchToken = "no_such_token"
        case invalidName = "invalid_name"
        /// Four-eyes promotion (``ProposalStore``).
        case noSuchProposal = "no_such_proposal"
        case alreadyDecided = "already_decided"
        case ownProposal = "own_proposal"
        case staleBase = "stale_base"
    }

    /// What went wrong.
    public var code: Code
    /// What happened and what to do.
    public var message: String

    /// Creates an error.
    public init(_ code: Code, _ message: String) {
        self.code = code
        self.message = message
    }

    public var description: String { message }
}
