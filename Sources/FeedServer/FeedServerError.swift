/// An error of the feed listener.
public struct FeedServerError: Error, Sendable, CustomStringConvertible {
    /// What failed.
    public struct Code: Sendable, Hashable, CustomStringConvertible {
        let name: String
        /// The listening socket could not be bound (port in use, bad address).
        public static let bindFailed = Code(name: "bind_failed")
        /// A TLS file (certificate, key, client CA) is missing or unusable.
        public static let tlsConfiguration = Code(name: "tls_configuration")
        public var description: String { name }
    }
    /// What failed.
    public var code: Code
    /// What happened and what to do.
    public var message: String
    public var description: String { message }

    /// Creates an error.
    public init(code: Code, message: String) {
        self.code = code
        self.message = message
    }
}
