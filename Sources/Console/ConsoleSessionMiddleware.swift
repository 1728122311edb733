import Access
import HTTPAPI
import Hummingbird

/// Lets a console request through only with a valid session cookie, and a state-changing
/// one only with the session's CSRF token in its form (`csrf`): a page on another site can
/// make the browser send the cookie (SameSite=Strict already stops most of that, and the
/// Origin check the rest) but can never read the token. Sets the context's identity.
struct ConsoleSessionMiddleware: RouterMiddleware {
    typealias Context = APIRequestContext
    let access: AccessStore

    func handle(_ request: Request, context: Context, next: (Request, Context) async throws -> Response) async throws -> Response {
        guard let sessionID = request.cookies[Console.cookieName]?.value, !sessionID.isEmpty else {
            return try Self.refuse(request, reason: "You are not signed in.")
        }
        let verification: ConsoleSessions.Verification
        do {
            verification = try await access.withConnection { try await ConsoleSessions.verify(sessionID, on: $0) }
        } catch {
            context.logger.error("cannot check a console session", metadata: ["error": "\(error)"])
            throw ConsoleError(
                .serviceUnavailable, "Sign-in cannot be checked",
                "Sessions cannot be checked now because PostgreSQL is unreachable; reload the page in a moment.")
        }
        guard case .valid(let name, let role) = verification else {
            return try Self.refuse(
                request, reason: "Your session has ended (signed out, expired, or its token was revoked). Sign in again with a valid token.")
        }
        var context = context
        context.identity = Identity(name: name, role: role)
        var request = request
        if OriginCheck.changesState(request.method) {
            // Collected here; the handler reads the same bytes again from the request passed on.
            let form = FormFields(String(buffer: try await request.collectBody(upTo: 64 * 1024)))
            let expected = ConsoleSessions.csrfToken(forSessionID: sessionID)
            guard let presented = form["csrf"], APIToken.digestsEqual(presented, expected) else {
                context.logger.warning("console form refused: CSRF token missing or wrong", metadata: ["path": "\(request.uri.path)"])
                throw ConsoleError(
                    .forbidden, "Form refused",
                    "This form did not carry this session's security token (csrf), so it may have come from another site. "
                        + "Nothing was changed. Reload the console page and use its own buttons.")
            }
        }
        return try await next(request, context)
    }

    /// A GET goes to the sign-in page (and back afterwards); anything else is a 401 page.
    static func refuse(_ request: Request, reason: String) throws -> Response {
        guard request.method == .get || request.method == .head else {
            throw ConsoleError(.unauthorized, "Not signed in", reason + " Nothing was changed. Sign in at /console/sign-in.")
        }
        let path = request.uri.path
        let next = path.hasPrefix("/console") && !path.contains("//") ? path : "/console"
        return Response(status: .seeOther, headers: [.location: "/console/sign-in?next=\(next)", .cacheControl: "no-store"])
    }
}

/// Which methods change state (the same rule as the API's Origin check).
enum OriginCheck {
    static func changesState(_ method: HTTPRequest.Method) -> Bool {
        method != .get && method != .head && method != .options
    }
}

extension APIRequestContext {
    /// The signed-in identity; the session middleware guarantees it on console routes.
    var signedIn: Identity {
        get throws {
            guard let identity else {
                throw ConsoleError(.unauthorized, "Not signed in", "Sign in at /console/sign-in with an API token.")
            }
            return identity
        }
    }
}
