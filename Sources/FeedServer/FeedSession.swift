import Synchronization
import VigilCore

/// One feed connection as it is recorded (`feed_sessions`): who sent, over what, since when.
public struct FeedSession: Sendable, Hashable {
    /// Unique per connection across restarts (microseconds at the listener's start, plus one per connection).
    public var id: Int64
    /// The remote address.
    public var peer: String
    /// The client certificate's subject (mutual TLS), e.g. `CN=switch-a,O=Bank A`.
    public var subject: String?
    /// Plain TCP, TLS or mutual TLS.
    public var transport: FeedTransport
    /// When the connection was accepted (UTC).
    public var connectedAt: Timestamp

    /// What goes in each record's `peer`: the address, and the subject when there is one.
    public var peerDescription: String {
        guard let subject else { return peer }
        return "\(peer) subject=\(subject)"
    }
}

/// A connection's identity while it is being set up: the subject arrives with the TLS
/// handshake, on the event loop, before the first line is read.
final class ConnectionIdentity: Sendable {
    private let state: Mutex<FeedSession>

    init(id: Int64, peer: String, transport: FeedTransport) {
        state = Mutex(FeedSession(id: id, peer: peer, subject: nil, transport: transport, connectedAt: .now()))
    }

    func setSubject(_ subject: String) { state.withLock { $0.subject = subject } }

    var session: FeedSession { state.withLock { $0 } }
}
