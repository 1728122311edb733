import Foundation
import PostgresStore
import Testing
import VigilTesting

extension FaultToleranceTests {
    @Test(
        "17. PostgreSQL failover: with host=primary,replica target_session_attrs=read-write, vigil serve reconnects to the promoted replica; nothing acked is lost",
        .timeLimit(.minutes(2)))
    func promotedReplica() async throws {
        let primary = try PrivateCluster.start(label: "primary")
        defer { primary.remove() }
        try await ScratchDatabase.with("multihost", cluster: primary) { database in
            let replica = try PrivateCluster.replica(of: primary, label: "replica")
            defer { replica.remove() }
            // Synchronous replication, as docs/operations.md asks for: a commit (and so an
            // ack) waits for the replica, so a promotion loses nothing acked.
            try await PostgresConnection.withConnection(ScratchDatabase.adminConfiguration(primary)) { admin in
                _ = try await admin.query("ALTER SYSTEM SET synchronous_standby_names = '*'")
                _ = try await admin.query("SELECT pg_reload_conf()")
                try await waitUntil(within: .seconds(30), "the replica to stream synchronously") {
                    try await admin.query("SELECT count(*)::int FROM pg_stat_replication WHERE sync_state = 'sync'").first?.decode(0, as: Int.self)
                        == 1
                }
            }
            let url =
                "host=\(primary.socketDirectory),\(replica.socketDirectory) port=5432,5432 user=postgres dbname=\(database.name) "
                + "target_session_attrs=read-write connect_timeout=2"
            let server = try await ServeProcess.start(database: database, name: "multihost", environment: ["DATABASE_URL": url])
            defer { Task { await server.stop() } }
            let before = (0..<200).map { validLine("mh-\($0)", account: "acc-\($0 % 7)") }
            let beforeIDs = (0..<200).map { "mh-\($0)" }
            _ = try await FeedStreaming.untilAllAcked(before, ids: beforeIDs, port: server.feedPort, timeout: .seconds(30))

            try primary.stopImmediately()
            try replica.promote()
            let after = (200..<400).map { validLine("mh-\($0)", account: "acc-\($0 % 7)") }
            let afterIDs = (200..<400).map { "mh-\($0)" }
            let started = ContinuousClock.now
            _ = try await FeedStreaming.untilAllAcked(after, ids: afterIDs, port: server.feedPort, timeout: .seconds(60))
            print("PostgreSQL failover: 200 records acked through the promoted replica \(ContinuousClock.now - started) after the promotion")
            #expect(server.child.isRunning, "vigil serve must wait out the failover, not exit:\n\(server.logTail)")

            let onReplica = PostgresConfiguration(
                connectionString: "host=\(replica.socketDirectory) port=5432 user=postgres dbname=\(database.name)",
                applicationName: "vigil-fault-tests")
            let stored = try await PostgresConnection.withConnection(onReplica) { db in
                try await db.query("SELECT id FROM transactions WHERE id LIKE 'mh-%'").map { try $0.decode(0, as: String.self) }
            }
            #expect(Set(stored) == Set(beforeIDs + afterIDs) && stored.count == 400, "\(stored.count) stored on the promoted replica")
            await server.stop()
        }
    }
}
