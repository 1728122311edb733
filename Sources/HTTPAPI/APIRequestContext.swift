import Access
import Hummingbird
import NIOCore

/// Who made a request: the token's name and role.
public struct Identity: Sendable, Equatable {
    /// The token's name (what the audit log records as the actor).
    public var name: String
    /// What it may do.
    public var role: Role

    /// Creates an identity (the bearer-token middleware, or the console's session check).
    public init(name: String, role: Role) {
        self.name = name
        self.role = role
    }
}

/// The request context of every Vigil HTTP endpoint: the connection (for streams and the
/// client's address) and, past the auth middleware, the caller's identity.
public struct APIRequestContext: RequestContext {
    public var coreContext: CoreRequestContextStorage
    /// The connection the request came on.
    public let channel: any Channel
    /// Set by ``RequireRoleMiddleware`` once the bearer token is verified.
    public var identity: Identity?

    public init(source: ApplicationRequestContextSource) {
        self.coreContext = .init(source: source)
        self.channel = source.channel
        self.identity = nil
    }

    /// The client's address, `ip:port`.
    public var remoteAddress: String {
        guard let address = channel.remoteAddress else { return "unknown" }
        return "\(address.ipAddress ?? "unknown"):\(address.port ?? 0)"
    }

    /// The caller as the audit log records it.
    public var actor: Actor {
        Actor(name: identity?.name ?? "anonymous", remoteAddress: remoteAddress)
    }
}
