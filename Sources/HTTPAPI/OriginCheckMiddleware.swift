import Hummingbird

/// Refuses (403) a state-changing request whose `Origin` header names another site: a
/// browser that visits a hostile page must not be usable to reach the API (cross-site
/// request forgery). Requests without `Origin` (curl, scripts, scrapers) pass; the token
/// check still applies to them.
public struct OriginCheckMiddleware<Context: RequestContext>: RouterMiddleware {
    /// Creates the middleware.
    public init() {}

    public func handle(_ request: Request, context: Context, next: (Request, Context) async throws -> Response) async throws -> Response {
        if Self.changesState(request.method), let origin = request.headers[.origin], !Self.isSameOrigin(origin, host: request.head.authority) {
            throw APIError(
                .forbidden, code: "foreign_origin",
                message:
                    "a \(request.method) from origin \(origin) is refused: state-changing requests are accepted only from the server's own origin or without an Origin header"
            )
        }
        return try await next(request, context)
    }

    static func changesState(_ method: HTTPRequest.Method) -> Bool {
        method != .get && method != .head && method != .options
    }

    /// `http://host:port` (or https) whose authority is the request's `Host`.
    static func isSameOrigin(_ origin: String, host: String?) -> Bool {
        guard let host, !host.isEmpty else { return false }
        let lowered = origin.lowercased()
        for scheme in ["http://", "https://"] where lowered.hasPrefix(scheme) {
            return String(lowered.dropFirst(scheme.count)) == host.lowercased()
        }
        return false
    }
}
