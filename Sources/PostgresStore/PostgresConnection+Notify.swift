import CLibPQ
import Glibc

/// A notification received through LISTEN.
public struct PostgresNotification: Sendable, Hashable {
    /// The channel it was sent on.
    public var channel: String
    /// The payload (may be empty).
    public var payload: String
    /// The sending backend's process id.
    public var senderPID: Int32
}

extension PostgresConnection {
    /// Subscribes this connection to `channel`.
    public func listen(_ channel: PostgresIdentifier) throws {
        try execute("LISTEN \(identifier: channel)")
    }

    /// Sends a notification (`pg_notify`), delivered to listeners at commit.
    public func notify(_ channel: String, payload: String = "") throws {
        try execute("SELECT pg_notify(\(channel), \(payload))")
    }

    /// Waits up to `timeout` for notifications and returns those that arrived (possibly
    /// none). Throws `.connectionLost` when the connection breaks, so a listener loop
    /// learns at once that it must reconnect (and reload what it caches).
    public func waitForNotifications(timeout: Duration) throws -> [PostgresNotification] {
        let conn = try liveConnection()
        var received = drainNotifications(conn)
        if !received.isEmpty { return received }
        let socket = PQsocket(conn)
        guard socket >= 0 else { throw connectionError(fallback: "the connection has no socket") }
        var descriptor = pollfd(fd: socket, events: Int16(POLLIN), revents: 0)
        let ms = Int32(clamping: timeout.components.seconds * 1000 + timeout.components.attoseconds / 1_000_000_000_000_000)
        let ready = poll(&descriptor, 1, max(ms, 0))
        if ready > 0 {
            guard PQconsumeInput(conn) == 1 else { throw connectionError(fallback: "reading notifications failed") }
            received = drainNotifications(conn)
            if received.isEmpty && PQstatus(conn) != CONNECTION_OK {
                throw connectionError(fallback: "the connection closed")
            }
        }
        return received
    }

    private func drainNotifications(_ conn: OpaquePointer) -> [PostgresNotification] {
        _ = PQconsumeInput(conn)
        var received: [PostgresNotification] = []
        while let note = PQnotifies(conn) {
            let n = note.pointee
            received.append(
                PostgresNotification(
                    channel: n.relname.map { String(cString: $0) } ?? "",
                    payload: n.extra.map { String(cString: $0) } ?? "",
                    senderPID: n.be_pid
                ))
            PQfreemem(note)
        }
        return received
    }
}
