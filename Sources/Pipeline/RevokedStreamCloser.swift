import Access
import HTTPAPI
import Logging
import PostgresStore
import ServiceLifecycle

/// Ends the alert streams of a token as soon as it is revoked: every request checks its
/// token, but a stream is one request that lasts, so the revocation is announced
/// (`vigil tokens revoke` notifies `vigil_tokens`) and the streams it opened are closed.
struct RevokedStreamCloser: Service {
    let database: PostgresConfiguration
    let streams: StreamRegistry
    let logger: Logger

    func run() async throws {
        guard let channel = PostgresIdentifier(TokenStore.revocationChannel) else { return }
        try await PostgresConnection.withConnection(database) { db in
            try await db.listen(channel)
            while !Task.isCancelled && !Task.isShuttingDownGracefully {
                for note in try await db.waitForNotifications(timeout: .milliseconds(500)) {
                    let ended = streams.finish(owner: note.payload)
                    if ended > 0 {
                        logger.notice("token revoked: its alert streams are closed", metadata: ["token": "\(note.payload)", "streams": "\(ended)"])
                    }
                }
            }
        }
    }
}
