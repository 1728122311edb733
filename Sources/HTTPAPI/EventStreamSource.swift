import NIOCore

/// The body of a streamed response (server-sent events), pulled by the connection.
public protocol EventStreamSource: Sendable {
    /// The next bytes to write (written with one flush); `nil` ends the response.
    func next() async -> [ByteBuffer]?
    /// Hands over a way to close the connection at once, for a client so far behind that
    /// even its last event cannot be written (it stopped reading).
    func attach(closeConnection: @escaping @Sendable () -> Void)
    /// The connection is gone or the server is stopping: `next` returns `nil` from now on.
    func finish()
}
