import Hummingbird

/// Refuses a request body larger than the limit with a 413 before any handler runs: a
/// declared `Content-Length` over it is refused at once, a chunked body is read up to it.
public struct BodyLimitMiddleware<Context: RequestContext>: RouterMiddleware {
    /// The largest body accepted, in bytes.
    public let limit: Int

    /// Creates the middleware.
    public init(limit: Int) { self.limit = limit }

    public func handle(_ request: Request, context: Context, next: (Request, Context) async throws -> Response) async throws -> Response {
        if let declared = request.headers[.contentLength].flatMap({ Int($0) }), declared > limit {
            throw tooLarge(declared)
        }
        guard request.headers[.contentLength] != nil || request.headers[.transferEncoding] != nil else {
            return try await next(request, context)
        }
        var request = request
        do {
            _ = try await request.collectBody(upTo: limit)
        } catch let error as HTTPError where error.status == .contentTooLarge {
            throw tooLarge(nil)
        }
        return try await next(request, context)
    }

    private func tooLarge(_ declared: Int?) -> APIError {
        let size = declared.map { " (\($0) bytes)" } ?? ""
        return APIError(
            .contentTooLarge, code: "body_too_large",
            message: "the request body\(size) is over the limit of \(limit) bytes; send a smaller body",
            extraJSON: "\"limit_bytes\":\(limit)")
    }
}
