import Foundation
import Testing
import VigilTesting

/// `vigil serve` as a child process on loopback ports chosen by the test.
final class ServeProcess: Sendable {
    let feedPort: Int
    let opsPort: Int
    /// An admin API token (created with `vigil tokens create`) for the endpoints that need
    /// one; empty when PostgreSQL was down at start.
    let token: String
    let database: ScratchDatabase
    let arguments: [String]
    let extra: [String]
    let environment: [String: String]
    let child: VigilProcess

    /// Starts `vigil serve` on free ports (or the given ones, to restart in place) and
    /// waits until `/readyz` answers 200.
    static func start(
        database: ScratchDatabase, name: String, extra: [String] = [], environment: [String: String] = [:],
        feedPort: Int? = nil, opsPort: Int? = nil, waitReady: Bool = true, openFileLimit: Int? = nil
    ) async throws -> ServeProcess {
        let feed = try feedPort ?? Network.freePort()
        let ops = try opsPort ?? Network.freePort()
        let arguments =
            [
                "serve", "--feed-host", "127.0.0.1", "--feed-port", "\(feed)", "--ops-host", "127.0.0.1", "--ops-port", "\(ops)",
                "--rules", "Rules",
            ] + (extra.contains("--workers") ? [] : ["--workers", "2"]) + extra
        // PostgreSQL may be down on purpose at start (12d): no token then, and a request
        // that needs one gets 401, which the test would show.
        let token = (try? await createToken(database: database)) ?? ""
        let log = database.folder.appendingPathComponent("\(name).log")
        let child = try VigilProcess.start(arguments, database: database, environment: environment, log: log, openFileLimit: openFileLimit)
        let server = ServeProcess(
            feedPort: feed, opsPort: ops, token: token, database: database, arguments: arguments, extra: extra, environment: environment,
            child: child)
        if waitReady { try await server.waitReady() }
        return server
    }

    /// `vigil tokens create` with the admin role; the token is the line it prints.
    static func createToken(database: ScratchDatabase) async throws -> String {
        let output = try await VigilProcess.run(
            ["tokens", "create", "--name", "fault-\(UUID().uuidString.prefix(8))", "--role", "admin"], database: database, in: database.folder)
        guard let token = output.split(separator: "\n").first(where: { $0.hasPrefix("vgl_") }) else {
            throw FaultTestError("vigil tokens create printed no token:\n\(output)")
        }
        return String(token)
    }

    private init(
        feedPort: Int, opsPort: Int, token: String, database: ScratchDatabase, arguments: [String], extra: [String], environment: [String: String],
        child: VigilProcess
    ) {
        self.feedPort = feedPort
        self.opsPort = opsPort
        self.token = token
        self.database = database
        self.arguments = arguments
        self.extra = extra
        self.environment = environment
        self.child = child
    }

    /// Waits for `/readyz` 200 (state loaded, PostgreSQL reachable).
    func waitReady(timeout: Duration = .seconds(60)) async throws {
        let ready = await eventually(timeout: timeout, poll: .milliseconds(100)) {
            guard child.isRunning else { return true }
            return Network.get(port: opsPort, path: "/readyz")?.status == 200
        }
        guard ready, child.isRunning else {
            throw FaultTestError("vigil serve did not become ready (exit \(String(describing: child.exitStatus))):\n\(child.log.suffix(4000))")
        }
    }

    /// The same server again (same ports, arguments and environment) after it died.
    func restart(name: String, waitReady: Bool = true) async throws -> ServeProcess {
        return try await ServeProcess.start(
            database: database, name: name, extra: extra, environment: environment,
            feedPort: feedPort, opsPort: opsPort, waitReady: waitReady)
    }

    /// A counter or gauge from `/metrics`, summed over its label sets.
    func metric(_ name: String) -> Double? {
        guard let body = Network.get(port: opsPort, path: "/metrics", token: token)?.body else { return nil }
        var total: Double?
        for line in body.split(separator: "\n") where !line.hasPrefix("#") {
            let key = line.split(separator: " ").first.map(String.init) ?? ""
            guard key == name || key.hasPrefix(name + "{") else { continue }
            if let value = Double(line.split(separator: " ").last ?? "") { total = (total ?? 0) + value }
        }
        return total
    }

    /// A counter from `/metrics`, summed over the label sets that include every one of `labels`.
    func metric(_ name: String, labels: [String: String]) -> Double? {
        guard let body = Network.get(port: opsPort, path: "/metrics", token: token)?.body else { return nil }
        var total: Double?
        for line in body.split(separator: "\n") where line.hasPrefix(name + "{") {
            let key = line.split(separator: " ").first.map(String.init) ?? ""
            guard labels.allSatisfy({ key.contains("\($0.key)=\"\($0.value)\"") }) else { continue }
            if let value = Double(line.split(separator: " ").last ?? "") { total = (total ?? 0) + value }
        }
        return total
    }

    /// Kills it and records its log as a test attachment-like comment when the test failed.
    func stop() async {
        await child.stop()
    }

    /// Its log's tail, for failure messages.
    var logTail: String { String(child.log.suffix(3000)) }
}
