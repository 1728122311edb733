import Access
import HTTPAPI
import Hummingbird

/// The investigator console: what it needs from the server that serves it.
///
/// It lives beside the ops routes on the same Hummingbird server; the wiring (Pipeline)
/// hands it the pieces it cannot reach itself: the alert stream, the metrics text and the
/// rule reload, each as a closure, so this module knows nothing of the pipeline.
public struct Console: Sendable {
    /// Tokens, sessions and the audit log, and the connection the pages read through.
    public var access: AccessStore
    /// How long a session lasts at most (12 hours; never past its token's expiry).
    public var sessionLifetime: Duration
    /// Mark the session cookie `Secure`: the server is reached over TLS (directly or
    /// through a proxy). A request that says `X-Forwarded-Proto: https` gets it anyway.
    public var secureCookies: Bool
    /// The live alert stream for a signed-in request (the same one `/alerts/stream` serves).
    public var alertStream: @Sendable (Request, APIRequestContext) async throws -> Response
    /// The Prometheus text `/metrics` serves (nil: metrics are not collected).
    public var metricsText: (@Sendable () -> String)?
    /// Reloads the rules as `POST /admin/reload-rules` does (audited there); returns what happened.
    public var reloadRules: @Sendable (Actor) async -> String

    /// Creates the console.
    public init(
        access: AccessStore, sessionLifetime: Duration = .seconds(12 * 3600), secureCookies: Bool = false,
        alertStream: @escaping @Sendable (Request, APIRequestContext) async throws -> Response,
        metricsText: (@Sendable () -> String)?,
        reloadRules: @escaping @Sendable (Actor) async -> String
    ) {
        self.access = access
        self.sessionLifetime = sessionLifetime
        self.secureCookies = secureCookies
        self.alertStream = alertStream
        self.metricsText = metricsText
        self.reloadRules = reloadRules
    }

    /// The cookie that carries the session id.
    public static let cookieName = "vigil_session"
}
