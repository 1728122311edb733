import Access
import Foundation
import HTTPAPI
import Hummingbird
import VigilCore

extension Console {
    /// Adds the console's routes to the server's router:
    ///
    /// | route | who |
    /// |---|---|
    /// | `GET /console/sign-in`, `POST /console/sign-in` | anyone (a token in, a session out) |
    /// | `GET /console/assets/*` | anyone (stylesheet and script) |
    /// | `GET /console`, `/console/alerts/{id}`, `/console/rules`, `/console/pipeline`, `/console/stream` | a session, any role |
    /// | `POST /console/sign-out` | a session (CSRF token) |
    /// | `POST /console/rules/reload` | a session of an admin (CSRF token; audited) |
    public func addRoutes(to router: Router<APIRequestContext>) {
        let sampler = ThroughputSampler()
        let open = router.group("console").add(middleware: ConsoleErrorMiddleware())
        open.get("assets/console.css") { _, _ in Assets.response(Assets.css, contentType: "text/css; charset=utf-8") }
        open.get("assets/console.js") { _, _ in Assets.response(Assets.script, contentType: "text/javascript; charset=utf-8") }
        open.get("sign-in") { request, _ in
            signInPage(next: request.uri.queryParameters.get("next"), problem: nil, status: .ok)
        }
        open.post("sign-in") { request, context in try await signIn(request, context: context) }

        let signedIn = open.group().add(middleware: ConsoleSessionMiddleware(access: access))
        signedIn.post("sign-out") { request, context in
            let identity = try context.signedIn
            if let sessionID = request.cookies[Console.cookieName]?.value {
                try await access.withConnection { db in
                    try await ConsoleSessions.close(sessionID, by: Actor(name: identity.name, remoteAddress: context.remoteAddress), on: db)
                }
            }
            var response = Response(status: .seeOther, headers: [.location: "/console/sign-in", .cacheControl: "no-store"])
            response.setCookie(sessionCookie(value: "", maxAge: 0, request: request))
            return response
        }
        signedIn.get("") { request, context in try await queuePage(request, context: context) }
        signedIn.get("alerts/:id") { request, context in try await alertPage(request, context: context) }
        signedIn.post("alerts/:id/case/:action") { request, context in try await caseAction(request, context: context) }
        signedIn.get("rules") { request, context in try await rulesPage(request, context: context, flash: nil) }
        signedIn.post("rules/reload") { request, context in
            let identity = try context.signedIn
            guard identity.role >= .admin else {
                throw ConsoleError(
                    .forbidden, "Not allowed",
                    "Reloading rules needs the admin role; you are signed in as '\(identity.name)' with role \(identity.role). Nothing was changed.")
            }
            let outcome = await reloadRules(Actor(name: identity.name, remoteAddress: context.remoteAddress))
            return try await rulesPage(request, context: context, flash: outcome)
        }
        signedIn.post("rules/proposals/:id/:decision") { request, context in try await decideProposal(request, context: context) }
        signedIn.get("pipeline") { request, context in
            let identity = try context.signedIn
            let endpoints = try await access.withConnection { try await WebhookEndpointState.all(on: $0) }
            let view = PipelineView.make(metrics: metricsText?(), sampler: sampler, endpoints: endpoints)
            return Pages.page("pipeline", title: "Pipeline", view: view, identity: identity, csrf: csrf(request))
        }
        signedIn.get("stream") { request, context in try await alertStream(request, context) }
    }

    /// The session's CSRF token, for the forms of a page.
    func csrf(_ request: Request) -> String? {
        request.cookies[Console.cookieName].map { ConsoleSessions.csrfToken(forSessionID: $0.value) }
    }

    /// The session cookie: HttpOnly (no script reads it), SameSite=Strict (no other site's
    /// page sends it), Secure when the console is reached over TLS, for the whole server.
    func sessionCookie(value: String, maxAge: Int, request: Request) -> Cookie {
        // A TLS-terminating proxy in front says so; believing it can only add `Secure`.
        let forwardedTLS = request.headers.first { $0.name.canonicalName == "x-forwarded-proto" }?.value.lowercased() == "https"
        return Cookie(
            name: Console.cookieName, value: value, maxAge: maxAge, path: "/", secure: secureCookies || forwardedTLS, httpOnly: true,
            sameSite: .strict)
    }
}
