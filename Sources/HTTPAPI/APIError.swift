import Hummingbird
import NIOCore
import VigilCore

/// An error answered as JSON, `{"error":{"code":"...","message":"..."}}`, with its status
/// (and headers, such as `WWW-Authenticate` on a 401).
public struct APIError: HTTPResponseError, Sendable, CustomStringConvertible {
    /// The HTTP status.
    public var status: HTTPResponse.Status
    /// A stable, machine-readable code (`invalid_token`, `forbidden`, ...).
    public var code: String
    /// What was wrong and what to do.
    public var message: String
    /// More members of the error object, already JSON (`"max_subscribers":256`).
    public var extraJSON: String
    /// Headers to send with it.
    public var headers: HTTPFields

    /// Creates an error.
    public init(_ status: HTTPResponse.Status, code: String, message: String, extraJSON: String = "", headers: HTTPFields = [:]) {
        self.status = status
        self.code = code
        self.message = message
        self.extraJSON = extraJSON
        self.headers = headers
    }

    public var description: String { "\(status.code) \(code): \(message)" }

    /// The JSON body.
    public var body: String {
        let extra = extraJSON.isEmpty ? "" : "," + extraJSON
        return "{\"error\":{\"code\":\(JSONText.quoted(code)),\"message\":\(JSONText.quoted(message))\(extra)}}\n"
    }

    public func response(from request: Request, context: some RequestContext) throws -> Response {
        var headers = self.headers
        headers[.contentType] = "application/json"
        return Response(status: status, headers: headers, body: ResponseBody(byteBuffer: ByteBuffer(string: body)))
    }
}

extension APIError {
    /// 401: no usable token; the client should authenticate.
    static func unauthenticated(_ message: String, invalidToken: Bool) -> APIError {
        let challenge = invalidToken ? "Bearer realm=\"vigil\", error=\"invalid_token\"" : "Bearer realm=\"vigil\""
        return APIError(
            .unauthorized, code: invalidToken ? "invalid_token" : "unauthenticated", message: message,
            headers: [.wwwAuthenticate: challenge])
    }
}
