/// An error from webhook delivery or administration: what failed and what to do about it.
public struct WebhookError: Error, Sendable, CustomStringConvertible {
    /// The kind of failure.
    public struct Code: Sendable, Hashable, CustomStringConvertible {
        enum Base: String, Sendable {
            case invalidSecret, invalidURL, destinationRefused, notFound, invalidArgument, invalidSignature, secretKey
        }
        let base: Base
        /// A secret is not `whsec_` followed by base64 of at least 24 bytes.
        public static let invalidSecret = Code(base: .invalidSecret)
        /// An endpoint URL is not an absolute `http` or `https` URL with a host.
        public static let invalidURL = Code(base: .invalidURL)
        /// The destination resolves only to addresses the configuration does not allow (SSRF rules).
        public static let destinationRefused = Code(base: .destinationRefused)
        /// No endpoint, alert or message with that id.
        public static let notFound = Code(base: .notFound)
        /// An argument is out of range or malformed.
        public static let invalidArgument = Code(base: .invalidArgument)
        /// A received webhook's signature, id or timestamp does not verify.
        public static let invalidSignature = Code(base: .invalidSignature)
        /// No secret key is configured, or a sealed secret cannot be opened with it.
        public static let secretKey = Code(base: .secretKey)
        public var description: String { base.rawValue }
    }

    /// The kind of failure.
    public var code: Code
    /// What happened and what to do; never contains a secret.
    public var message: String

    /// Creates an error.
    public init(code: Code, message: String) {
        self.code = code
        self.message = message
    }

    public var description: String { message }
}
