import ServiceLifecycle

/// A pipeline child that runs only on the leader of `vigil serve --ha`: it waits for the
/// lease before starting (a standby runs no writer, checkpointer or webhook delivery),
/// and a node that has lost the lease never starts it again.
struct LeaderOnly: Service {
    let service: any Service
    let leadership: Leadership

    func run() async throws {
        guard (try? await cancelWhenGracefulShutdown({ await self.leadership.acquired.wait() })) == true else { return }
        guard case .leader = leadership.role else {
            // Lost: stay down (a restart would only be fenced again) until the process stops.
            try? await gracefulShutdown()
            return
        }
        try await service.run()
    }
}
