import Foundation
import Logging
import PostgresStore
import Secrets
import VigilCore
import VigilTesting

@testable import WebhookDelivery

/// Shared set-up for the dispatcher tests: endpoints, alerts enqueued the way the pipeline
/// does (inside the transaction that inserts the alert), and a dispatcher running in a task.
enum Fixture {
    struct Missing: Error, CustomStringConvertible { var description: String }

    static let secret = "whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw"
    /// The operator's key in these tests: signing secrets are stored sealed under it.
    static let keyring: SecretKeyring = {
        let bytes = (0..<32).map { _ in UInt8.random(in: 0...255) }
        guard let key = try? SecretKey(bytes: bytes) else { preconditionFailure("32 random bytes make a key") }
        return SecretKeyring(current: key)
    }()

    static func configuration(
        _ database: PostgresConfiguration, delays: [Duration] = [.zero, .milliseconds(50), .milliseconds(50), .milliseconds(50)],
        requestTimeout: Duration = .seconds(5), destinations: DestinationRules = .allowingLoopback,
        disableAfter: Duration? = nil, concurrency: Int = 2, leaseMargin: Duration = .seconds(30), keyring: SecretKeyring? = Fixture.keyring
    ) -> WebhookDispatcherConfiguration {
        var logger = Logger(label: "test.webhooks")
        logger.logLevel = ProcessInfo.processInfo.environment["VIGIL_TEST_LOG"] == nil ? .critical : .debug
        return WebhookDispatcherConfiguration(
            database: database, requestTimeout: requestTimeout, schedule: RetrySchedule(delays: delays, jitter: 0),
            disableAfter: disableAfter, concurrencyPerEndpoint: concurrency, destinations: destinations,
            pollInterval: .milliseconds(200), leaseMargin: leaseMargin, resolveInterval: .seconds(60),
            slowDownPause: .milliseconds(100), jitterSource: { 0.5 }, logger: logger, keyring: keyring
        )
    }

    static func addEndpoint(_ url: String, secret: String = Fixture.secret, minSeverity: String? = nil, on db: PostgresConnection) async throws
        -> Int64
    {
        try await WebhookAdmin.addEndpoint(url: url, secret: try WebhookSecret(secret), keyring: keyring, minSeverity: minSeverity, on: db)
    }

    /// Inserts a transaction and its alert and enqueues the webhook, in one transaction.
    static func raiseAlert(_ transactionID: String, severity: String = "high", on db: PostgresConnection) async throws -> Int64 {
        let raw =
            #"{"id":"\#(transactionID)","timestamp":"2026-11-24T10:15:00.123Z","account_id":"acc-1","amount":"125.40","currency":"EUR","channel":"card_present"}"#
        return try await db.transaction { db in
            try db.execute(
                """
                INSERT INTO transactions (id, account_id, amount_minor, currency, channel, event_time, raw)
                VALUES (\(transactionID), 'acc-1', 12540, 'EUR', 'card_present', now(), \(PostgresJSON(raw)))
                """)
            guard
                let alertID = try db.query(
                    """
                    INSERT INTO alerts (transaction_id, account_id, amount_minor, currency, severity, total_score, rules, ruleset_version)
                    VALUES (\(transactionID), 'acc-1', 12540, 'EUR', \(severity), 70, '[]', 'test-1') RETURNING id
                    """
                ).first?.decode(0, as: Int64.self)
            else { throw Missing(description: "alert id") }
            guard let currency = Currency(code: "EUR") else { throw Missing(description: "EUR") }
            let body = AlertEventBody.make(
                alertID: alertID, transactionID: transactionID, accountID: "acc-1", amount: Money(minorUnits: 12540, currency: currency),
                severity: severity, totalScore: 70, rules: [.init(id: "big_amount", severity: severity, score: 70, reason: "amount 125.40 EUR")],
                rulesetVersion: "test-1", createdAt: .now(), transactionJSON: raw
            )
            try WebhookOutbox.enqueue(alertID: alertID, severity: severity, body: body, on: db)
            return alertID
        }
    }

    /// (status, attempts) of the alert's message to the endpoint.
    static func message(alert: Int64, endpoint: Int64, on db: PostgresConnection) async throws -> (status: String, attempts: Int, messageID: String) {
        guard
            let row = try await db.query(
                """
                SELECT status, attempts, message_id FROM webhook_outbox WHERE alert_id = \(alert) AND endpoint_id = \(endpoint)
                """
            ).first
        else { throw Missing(description: "no outbox row for alert \(alert), endpoint \(endpoint)") }
        return (try row.decode(0), try row.decode(1), try row.decode(2))
    }

    static func attempts(endpoint: Int64, on db: PostgresConnection) async throws -> [(status: Int?, error: String?)] {
        try await db.query("SELECT status_code, error FROM webhook_deliveries WHERE endpoint_id = \(endpoint) ORDER BY id").map {
            (try $0.decodeIfPresent(0, as: Int.self), try $0.decodeIfPresent(1, as: String.self))
        }
    }

    /// Runs `body` while a dispatcher runs; cancels it and waits for it to end afterwards.
    static func withDispatcher<T: Sendable>(_ configuration: WebhookDispatcherConfiguration, _ body: () async throws -> T) async throws -> T {
        let dispatcher = WebhookDispatcher(configuration: configuration)
        let task = Task { try await dispatcher.run() }
        let value: T
        do {
            value = try await body()
        } catch {
            task.cancel()
            _ = await task.result
            throw error
        }
        task.cancel()
        if case .failure(let error) = await task.result, !(error is CancellationError) { throw error }
        return value
    }

    /// A database with the migrations, a connection to it, and a receiver; all cleaned up.
    static func scenario<T: Sendable>(
        receivers scripts: [@Sendable (Int) -> TestReceiver.Reply],
        _ body: (PostgresConfiguration, PostgresConnection, [TestReceiver], [String]) async throws -> T
    ) async throws -> T {
        try await TestDatabase.withMigrated { configuration in
            try await PostgresConnection.withConnection(configuration) { db in
                let receivers = scripts.map { TestReceiver(script: $0) }
                var urls: [String] = []
                do {
                    for receiver in receivers { urls.append(try await receiver.start()) }
                    let value = try await body(configuration, db, receivers, urls)
                    for receiver in receivers { await receiver.stop() }
                    return value
                } catch {
                    for receiver in receivers { await receiver.stop() }
                    throw error
                }
            }
        }
    }
}
