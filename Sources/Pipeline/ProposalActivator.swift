import Access
import Logging
import PostgresStore
import ServiceLifecycle
import Supervision

/// Under `--four-eyes`, makes approved proposals live: listens on `vigil_rulesets` (an
/// approval notifies it at commit) and, at start, after every notification and every few
/// seconds in case one was missed (a reconnect), activates each approved proposal no server
/// has made live yet, oldest approval first, through ``RulesReloader/activate(proposal:)``.
struct ProposalActivator: Service {
    let reloader: RulesReloader
    let database: PostgresConfiguration
    let logger: Logger

    /// The ops supervisor's child that runs it, under `--four-eyes` only.
    static func children(reloader: RulesReloader, configuration: ServeConfiguration) -> [ChildSpec] {
        guard configuration.fourEyes else { return [] }
        return [
            ChildSpec(
                name: "approvals",
                service: ProposalActivator(reloader: reloader, database: configuration.database, logger: Logger(label: "vigil.rules")))
        ]
    }

    func run() async throws {
        // Swap only once the state is loaded: the bootstrap rebuilds windows for the ruleset
        // in force, and a swap before it would be counted twice in its new windows.
        guard (try? await cancelWhenGracefulShutdown({ await self.reloader.state.ready.wait() })) == true else { return }
        guard let channel = PostgresIdentifier(ProposalStore.channel) else { return }
        try await PostgresConnection.withConnection(database) { db in
            try await db.listen(channel)
            while !Task.isCancelled && !Task.isShuttingDownGracefully {
                for id in try await ProposalStore.awaitingActivation(on: db) {
                    guard !Task.isShuttingDownGracefully else { return }
                    _ = await reloader.activate(proposal: id)
                }
                _ = try await db.waitForNotifications(timeout: .seconds(2))
            }
        }
    }
}
