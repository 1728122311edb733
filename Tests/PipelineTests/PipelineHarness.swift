import FeedServer
import Foundation
import Pipeline
import PostgresStore
import RuleLanguage
import ServiceLifecycle
import VigilCore

/// Compiles rules text written for a test (or the repository's `Rules/`).
func compileRules(_ files: [String: String]) throws -> CompiledRuleset {
    let folder = FileManager.default.temporaryDirectory.appendingPathComponent("vigil-rules-\(UUID().uuidString)")
    try FileManager.default.createDirectory(at: folder, withIntermediateDirectories: true)
    defer { try? FileManager.default.removeItem(at: folder) }
    for (name, text) in files {
        try text.write(to: folder.appendingPathComponent(name), atomically: true, encoding: .utf8)
    }
    let result = RulesetLoader.load(paths: [folder.path])
    guard let ruleset = result.ruleset else {
        throw HarnessError(message: result.diagnostics.map { $0.rendered(sources: result.sources) }.joined())
    }
    return ruleset
}

struct HarnessError: Error, CustomStringConvertible {
    var message: String
    var description: String { message }
}

/// Runs a whole Vigil (feed, pipeline, ops) in-process on free loopback ports against
/// `database`, for the duration of `body`, then shuts it down gracefully.
func withVigil<R: Sendable>(
    database: PostgresConfiguration, ruleset: CompiledRuleset,
    configure: (inout ServeConfiguration) -> Void = { _ in },
    _ body: @Sendable (VigilServer, Int) async throws -> R
) async throws -> R {
    var configuration = ServeConfiguration(database: database)
    configuration.feed.host = "127.0.0.1"
    configuration.feed.port = 0
    configuration.opsHost = "127.0.0.1"
    configuration.opsPort = 0
    configuration.detectionWorkers = 2
    configuration.shutdownTimeout = .seconds(20)
    configure(&configuration)
    let server = VigilServer(configuration: configuration, ruleset: ruleset)
    let group = server.serviceGroup(handleSignals: false)
    return try await withThrowingTaskGroup(of: Void.self) { tasks in
        tasks.addTask { try await group.run() }
        guard let port = await server.feed.boundAddress()?.port else { throw HarnessError(message: "feed did not bind") }
        do {
            let result = try await body(server, port)
            await group.triggerGracefulShutdown()
            try await tasks.waitForAll()
            return result
        } catch {
            await group.triggerGracefulShutdown()
            try? await tasks.waitForAll()
            throw error
        }
    }
}

/// Sends lines on one connection and returns the replies.
func send(_ lines: [String], port: Int) async throws -> [FeedAcknowledgement] {
    try await FeedClient.withConnection(host: "127.0.0.1", port: port) { connection in
        try await connection.send(lines: lines)
        return try await connection.replies(count: lines.count)
    }
}

/// A protocol v1 line.
func line(
    _ id: String, account: String = "acc-1", at time: Timestamp = .now(), amount: String = "25.00", currency: String = "EUR",
    channel: String = "card_present", card: String? = nil, device: String? = nil, merchant: String? = nil, country: String? = nil
) -> String {
    var fields = [
        "\"id\":\"\(id)\"", "\"timestamp\":\"\(RFC3339.format(time))\"", "\"account_id\":\"\(account)\"",
        "\"amount\":\"\(amount)\"", "\"currency\":\"\(currency)\"", "\"channel\":\"\(channel)\"",
    ]
    if let card { fields.append("\"card_id\":\"\(card)\"") }
    if let device { fields.append("\"device_id\":\"\(device)\"") }
    if let merchant { fields.append("\"merchant_id\":\"\(merchant)\"") }
    if let country { fields.append("\"country\":\"\(country)\"") }
    return "{" + fields.joined(separator: ",") + "}"
}

extension PostgresConnection {
    /// One integer from a query.
    func count(_ query: PostgresQuery) async throws -> Int {
        try await self.query(query).first?.decode(0, as: Int.self) ?? -1
    }
}
