/// Why an ISO 20022 message was refused: where (an element path) and what to change.
public struct ISO20022Error: Error, Sendable, Hashable, CustomStringConvertible {
    /// What kind of problem it is.
    public enum Code: String, Sendable, Hashable {
        /// The body is not well-formed XML (the message gives line and column).
        case notXML = "not_xml"
        /// Well-formed, but not a `pacs.008.001.08` document.
        case wrongMessage = "wrong_message"
        /// A required element is absent.
        case missingElement = "missing_element"
        /// An element's content is not what the schema allows.
        case invalidElement = "invalid_element"
    }

    public var code: Code
    /// The element's path, e.g. `FIToFICstmrCdtTrf/CdtTrfTxInf[2]/IntrBkSttlmAmt`.
    public var path: String
    /// What is wrong and what is expected.
    public var message: String

    /// Creates an error.
    public init(code: Code, path: String, message: String) {
        self.code = code
        self.path = path
        self.message = message
    }

    public var description: String { path.isEmpty ? "\(code.rawValue): \(message)" : "\(code.rawValue) at \(path): \(message)" }
}
