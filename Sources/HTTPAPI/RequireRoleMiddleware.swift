import Access
import Hummingbird

/// Lets a request through only with `Authorization: Bearer <token>` naming a valid token
/// whose role is at least `role`: 401 (with `WWW-Authenticate: Bearer`) without a token or
/// with an unknown, revoked or expired one, 403 when the role is too small. Sets the
/// context's identity for the handler (and the audit log).
public struct RequireRoleMiddleware: RouterMiddleware {
    public typealias Context = APIRequestContext

    /// The least role the routes behind it need.
    public let role: Role
    private let access: AccessStore

    /// Creates the middleware.
    public init(_ role: Role, access: AccessStore) {
        self.role = role
        self.access = access
    }

    public func handle(_ request: Request, context: Context, next: (Request, Context) async throws -> Response) async throws -> Response {
        guard let header = request.headers[.authorization] else {
            throw APIError.unauthenticated(
                "this endpoint needs a token with role \(role) or higher: send 'Authorization: Bearer <token>' (create one with 'vigil tokens create')",
                invalidToken: false)
        }
        let parts = header.split(separator: " ", maxSplits: 1)
        guard parts.count == 2, parts[0].lowercased() == "bearer", !parts[1].isEmpty else {
            throw APIError.unauthenticated("the Authorization header must be 'Bearer <token>'", invalidToken: false)
        }
        let verification: TokenStore.Verification
        do {
            verification = try await access.verify(APIToken(text: String(parts[1]).trimmingCharacters(in: .whitespaces)))
        } catch {
            context.logger.error("cannot verify a token", metadata: ["error": "\(error)"])
            throw APIError(
                .serviceUnavailable, code: "auth_unavailable",
                message: "tokens cannot be checked now (PostgreSQL unreachable); retry shortly")
        }
        var context = context
        switch verification {
        case .unknown:
            throw APIError.unauthenticated(
                "the token is not valid (check it was copied whole; 'vigil tokens list' shows the tokens)", invalidToken: true)
        case .revoked(let name):
            throw APIError.unauthenticated("token '\(name)' has been revoked; ask an admin for a new one", invalidToken: true)
        case .expired(let name):
            throw APIError.unauthenticated("token '\(name)' has expired; ask an admin for a new one", invalidToken: true)
        case .valid(let name, let tokenRole):
            guard tokenRole >= role else {
                throw APIError(
                    .forbidden, code: "forbidden",
                    message: "this endpoint needs role \(role) or higher; token '\(name)' has role \(tokenRole)")
            }
            context.identity = Identity(name: name, role: tokenRole)
        }
        return try await next(request, context)
    }
}

extension Router where Context == APIRequestContext {
    /// A group of routes that need `role` (or higher): add routes to it as to the router.
    public func group(requiring role: Role, access: AccessStore) -> RouterGroup<APIRequestContext> {
        group().add(middleware: RequireRoleMiddleware(role, access: access))
    }
}
