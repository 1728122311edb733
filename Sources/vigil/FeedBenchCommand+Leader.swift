import FeedServer
import Foundation
import ISO8583

/// Finds the leader among the nodes of an HA pair before a run that stays on one server.
enum LeaderProbe {
    /// The first address whose feed accepts a connection and stays quiet for `quiet` (a
    /// standby answers `not_leader` and closes at once); retried until `deadline`.
    static func leader(
        among addresses: [FeedAddress], tls: FeedClientTLS?, iso8583: ISO8583Packager?, quiet: Duration = .milliseconds(300),
        deadline: ContinuousClock.Instant, command: String
    ) async throws -> FeedAddress {
        var refusals: [String] = []
        while true {
            refusals = []
            for address in addresses {
                let started = ContinuousClock.now
                do {
                    let line = try await FeedClient.withConnection(host: address.host, port: address.port, tls: tls, iso8583: iso8583) { connection in
                        let channel = connection.channel
                        // Nothing is sent: a leader says nothing, so its connection is closed here after `quiet`.
                        let timer = Task {
                            try await Task.sleep(for: quiet)
                            channel.close(promise: nil)
                        }
                        defer { timer.cancel() }
                        return try? await connection.nextReply()
                    }
                    if line == nil, ContinuousClock.now - started >= quiet { return address }
                    refusals.append("\(address): \(line.map { "\($0)" } ?? "closed at once")")
                } catch {
                    refusals.append("\(address): \(error)")
                }
            }
            guard ContinuousClock.now < deadline else { break }
            try await Task.sleep(for: .milliseconds(200))
        }
        throw CleanExit.failure(
            "vigil \(command): no leader among \(addresses.map(\.description).joined(separator: ", ")): \(refusals.joined(separator: "; "))")
    }
}
