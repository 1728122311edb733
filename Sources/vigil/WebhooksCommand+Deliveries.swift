import ArgumentParser
import VigilCore
import WebhookDelivery

/// `vigil webhooks deliveries`: the latest attempts, newest first.
struct WebhooksDeliveriesCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(commandName: "deliveries", abstract: "Show recent delivery attempts.")

    @Option(help: "Only this endpoint.")
    var endpoint: Int64?
    @Option(help: "failed (no 2xx) or dead (messages that gave up).")
    var status: String?
    @Option(help: "How many attempts to show.")
    var limit: Int = 50

    func run() async throws {
        var filter: WebhookAdmin.DeliveryFilter?
        if let status {
            guard let parsed = WebhookAdmin.DeliveryFilter(rawValue: status) else {
                throw CleanExit.failure("vigil webhooks deliveries: --status is failed or dead")
            }
            filter = parsed
        }
        let records = try await WebhooksCommand.withDatabase("deliveries") { db in
            try await WebhookAdmin.deliveries(endpoint: endpoint, filter: filter, limit: limit, on: db)
        }
        if records.isEmpty { print("no delivery attempts match") }
        for record in records {
            let result = record.statusCode.map { "HTTP \($0)" } ?? "no response"
            let latency = record.latencyMS.map { " \($0)ms" } ?? ""
            let error = record.error.map { " — \($0)" } ?? ""
            print(
                "\(record.attemptedAt)  endpoint \(record.endpointID)  alert \(record.alertID.map(String.init) ?? "-")  \(record.messageID)  attempt \(record.attempt)  \(result)\(latency)  [\(record.messageStatus)]\(error)"
            )
        }
    }
}

/// `vigil webhooks replay --alert ID | --since TIME [--endpoint ID]`.
struct WebhooksReplayCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "replay",
        abstract: "Send alerts again with their original webhook-id and a fresh retry schedule."
    )

    @Option(help: "One alert id.")
    var alert: Int64?
    @Option(help: "Alerts created since this RFC 3339 time, or this long ago (2h, 3d).")
    var since: String?
    @Option(help: "Only to this endpoint (alerts it never had are queued for it too).")
    var endpoint: Int64?

    func run() async throws {
        var sinceTime: Timestamp?
        if let since {
            if let parsed = RFC3339.parse(since) {
                sinceTime = parsed
            } else if let ago = WebhooksCommand.parseDuration(since) {
                sinceTime = Timestamp.now().adding(microseconds: -(ago.components.seconds * 1_000_000))
            } else {
                throw CleanExit.failure("vigil webhooks replay: --since takes an RFC 3339 time (2026-11-24T10:00:00Z) or a duration (2h)")
            }
        }
        guard (alert == nil) != (sinceTime == nil) else {
            throw CleanExit.failure("vigil webhooks replay: give exactly one of --alert ID and --since TIME")
        }
        let queued = try await WebhooksCommand.withDatabase("replay") { db in
            let queued = try await WebhookAdmin.replay(alertID: alert, since: sinceTime, endpoint: endpoint, on: db)
            try await TokensCommand.audit(
                "webhook.replay", target: endpoint.map { "\($0)" },
                detail: "{\"alert\":\(alert.map { "\($0)" } ?? "null"),\"queued\":\(queued)}", on: db)
            return queued
        }
        print("queued \(queued) message(s) for delivery; a running dispatcher sends them now (disabled endpoints wait until enabled)")
    }
}
