import Access
import HTTPAPI
import Hummingbird
import VigilCore

extension Console {
    /// The sign-in form, with a problem to show when the last try failed.
    func signInPage(next: String?, problem: String?, status: HTTPResponse.Status) -> Response {
        let view: [String: Any] = ["next": safeNext(next), "problem": problem ?? false]
        return Pages.page("sign_in", title: "Sign in", view: view, identity: nil, csrf: nil, status: status)
    }

    /// Exchanges a token for a session: verifies it as every API request does, opens a
    /// session (audited as `console.sign_in`), sets the cookie and goes where the analyst was going.
    func signIn(_ request: Request, context: APIRequestContext) async throws -> Response {
        var request = request
        let form = try await FormFields.of(&request)
        let next = safeNext(form["next"])
        guard let text = form.nonEmpty("token") else {
            return signInPage(next: next, problem: "Enter your API token (it starts with vgl_).", status: .badRequest)
        }
        let token = APIToken(text: text)
        let verification: TokenStore.Verification
        do {
            verification = try await access.verify(token)
        } catch {
            context.logger.error("cannot verify a token for the console", metadata: ["error": "\(error)"])
            throw ConsoleError(
                .serviceUnavailable, "Sign-in unavailable", "Tokens cannot be checked now because PostgreSQL is unreachable; try again in a moment.")
        }
        let refusal: String
        switch verification {
        case .valid(let name, _):
            let actor = Actor(name: name, remoteAddress: context.remoteAddress)
            let opened = try await access.withConnection { db in
                try await ConsoleSessions.open(token: token, lifetime: sessionLifetime, by: actor, on: db)
            }
            guard let opened else {
                return signInPage(
                    next: next, problem: "Token '\(name)' stopped being valid while signing in; ask an admin for a new one.", status: .unauthorized)
            }
            let seconds = max(1, Int(opened.expiresAt.secondsSinceEpoch - Timestamp.now().secondsSinceEpoch))
            var response = Response(status: .seeOther, headers: [.location: next, .cacheControl: "no-store"])
            response.setCookie(sessionCookie(value: opened.id, maxAge: seconds, request: request))
            return response
        case .unknown:
            refusal = "That token is not valid. Check it was copied whole; an admin can list tokens with 'vigil tokens list'."
        case .revoked(let name):
            refusal = "Token '\(name)' has been revoked; ask an admin for a new one."
        case .expired(let name):
            refusal = "Token '\(name)' has expired; ask an admin for a new one."
        }
        do {
            try await access.record(
                "console.sign_in_refused", target: nil, detail: "{\"reason\":\(JSONText.quoted(refusal))}",
                by: Actor(name: "anonymous", remoteAddress: context.remoteAddress))
        } catch {
            context.logger.error("refused console sign-in not written to the audit log", metadata: ["error": "\(error)"])
        }
        return signInPage(next: next, problem: refusal, status: .unauthorized)
    }

    /// Only a console path is a place to go after signing in (never another site).
    func safeNext(_ next: String?) -> String {
        guard let next, next.hasPrefix("/console"), !next.contains("//"), !next.contains("\\"), !next.hasPrefix("/console/sign-") else {
            return "/console"
        }
        return next
    }
}
