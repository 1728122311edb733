import Hummingbird
import Logging

/// Answers every error as JSON (`{"error":{"code","message"}}`): the API's own errors as
/// they are, the framework's (404, 413, ...) with a code from their status, and anything
/// else as a 500 that says where to look (the log) without leaking internals.
public struct ErrorMiddleware<Context: RequestContext>: RouterMiddleware {
    /// Creates the middleware.
    public init() {}

    public func handle(_ request: Request, context: Context, next: (Request, Context) async throws -> Response) async throws -> Response {
        do {
            return try await next(request, context)
        } catch let error as APIError {
            return try error.response(from: request, context: context)
        } catch let error as HTTPError {
            let converted = APIError(
                error.status, code: Self.code(for: error.status), message: Self.message(for: error, request: request),
                headers: error.headers)
            return try converted.response(from: request, context: context)
        } catch {
            context.logger.error("request failed", metadata: ["path": "\(request.uri.path)", "error": "\(error)"])
            return try APIError(
                .internalServerError, code: "internal_error", message: "the request failed inside vigil; the server log has the cause"
            ).response(from: request, context: context)
        }
    }

    static func code(for status: HTTPResponse.Status) -> String {
        switch status {
        case .notFound: "not_found"
        case .methodNotAllowed: "method_not_allowed"
        case .contentTooLarge: "body_too_large"
        case .badRequest: "bad_request"
        default: status.reasonPhrase.lowercased().replacingOccurrences(of: " ", with: "_")
        }
    }

    static func message(for error: HTTPError, request: Request) -> String {
        switch error.status {
        case .notFound: "no such endpoint: \(request.method) \(request.uri.path); see docs/operations.md for the endpoints"
        case .contentTooLarge: error.body ?? "the request body is too large"
        default: error.body ?? error.status.reasonPhrase
        }
    }
}
