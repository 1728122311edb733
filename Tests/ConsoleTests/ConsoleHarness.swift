import AsyncHTTPClient
import FeedServer
import Foundation
import NIOCore
import Pipeline
import PostgresStore
import RuleLanguage
import VigilCore
import VigilTesting

/// Rules for the console's tests: a high-severity alert on large amounts, a medium one on
/// card-not-present, and a shadow rule on every transaction.
let consoleRules = """
    rule large_amount {
      when amount_base >= 500.00
      severity high
      score 70
      reason "amount {amount_base} is 500.00 or more"
    }
    rule card_not_present {
      when channel == "card_not_present"
      severity medium
      score 30
      reason "card not present"
    }
    rule shadow_everything {
      when amount_base >= 0.00
      mode shadow
      severity low
      score 1
      reason "shadow sees {amount_base}"
    }
    """

struct ConsoleTestError: Error, CustomStringConvertible {
    var description: String
}

/// Compiles rules text written for a test.
func compileConsoleRules(_ text: String = consoleRules) throws -> (CompiledRuleset, URL) {
    let folder = FileManager.default.temporaryDirectory.appendingPathComponent("vigil-console-rules-\(UUID().uuidString)")
    try FileManager.default.createDirectory(at: folder, withIntermediateDirectories: true)
    try text.write(to: folder.appendingPathComponent("console.rules"), atomically: true, encoding: .utf8)
    let result = RulesetLoader.load(paths: [folder.path])
    guard let ruleset = result.ruleset else {
        throw ConsoleTestError(description: result.diagnostics.map { $0.rendered(sources: result.sources) }.joined())
    }
    return (ruleset, folder)
}

/// A whole Vigil (feed, pipeline, HTTP with the console) on free loopback ports against
/// `database` for the duration of `body`: its feed port and HTTP port.
func withConsoleVigil<R: Sendable>(
    database: PostgresConfiguration, metricsText: (@Sendable () -> String)? = nil,
    _ body: @Sendable (_ feedPort: Int, _ httpPort: Int) async throws -> R
) async throws -> R {
    let (ruleset, folder) = try compileConsoleRules()
    defer { try? FileManager.default.removeItem(at: folder) }
    var configuration = ServeConfiguration(database: database)
    configuration.feed.host = "127.0.0.1"
    configuration.feed.port = 0
    configuration.opsHost = "127.0.0.1"
    configuration.opsPort = 0
    configuration.detectionWorkers = 1
    configuration.rulesPath = folder.path
    configuration.shutdownTimeout = .seconds(20)
    let server = VigilServer(
        configuration: configuration, ruleset: ruleset, rulesetFiles: [folder.appendingPathComponent("console.rules").path],
        metricsText: metricsText)
    let group = server.serviceGroup(handleSignals: false)
    return try await withThrowingTaskGroup(of: Void.self) { tasks in
        tasks.addTask { try await group.run() }
        do {
            guard let feedPort = await server.feed.boundAddress()?.port, let httpPort = await server.ops.boundPortNumber() else {
                throw ConsoleTestError(description: "vigil did not bind its feed and HTTP ports")
            }
            try await waitUntil("vigil ready") { await server.health.check(probe: nil).ready }
            let result = try await body(feedPort, httpPort)
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

/// Sends feed lines on one connection and waits for their acks.
func sendFeed(_ lines: [String], port: Int) async throws {
    let replies = try await FeedClient.withConnection(host: "127.0.0.1", port: port) { connection in
        try await connection.send(lines: lines)
        return try await connection.replies(count: lines.count)
    }
    for reply in replies {
        guard case .ack = reply else { throw ConsoleTestError(description: "the feed did not ack: \(reply)") }
    }
}

/// A protocol v1 line.
func feedLine(_ id: String, account: String = "acc-c", amount: String = "25.00", currency: String = "EUR", channel: String = "card_present")
    -> String
{
    "{\"id\":\"\(id)\",\"timestamp\":\"\(RFC3339.format(.now()))\",\"account_id\":\"\(account)\",\"amount\":\"\(amount)\","
        + "\"currency\":\"\(currency)\",\"channel\":\"\(channel)\",\"merchant_id\":\"m-1\",\"country\":\"DE\"}"
}
