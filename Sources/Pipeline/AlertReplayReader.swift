import Foundation
import PostgresStore
import VigilCore

/// Reads stored alerts for `/alerts/stream` clients that resume with `Last-Event-ID`.
///
/// One connection, opened on first use and shared by every resuming client (an actor, so
/// their pages are read one at a time): a crowd of clients reconnecting at once costs
/// PostgreSQL one connection, not one each. A lost connection is reopened on the next page.
actor AlertReplayReader {
    /// Alerts read per query; one page per subscriber is in memory at a time.
    static let pageSize = 500

    private let configuration: PostgresConfiguration
    private var connection: PostgresConnection?

    init(configuration: PostgresConfiguration) {
        var configuration = configuration
        configuration.applicationName += "-stream"
        self.configuration = configuration
    }

    /// One page of stored alerts.
    struct Page: Sendable {
        var alerts: [CommittedAlert]
        /// Ids of every row read (a row that could not be turned into an event still counts).
        var ids: [Int64]
        /// Fewer rows than a page: nothing more is stored after them.
        var exhausted: Bool
        /// When the page is empty, the newest stored id (0 for none).
        var newest: Int64?
    }

    /// Up to `pageSize` stored alerts with ids above `after`, ids ascending.
    func page(after: Int64) async throws -> Page {
        let db = try await open()
        do {
            let rows = try await db.query(
                """
                SELECT id, transaction_id, account_id, amount_minor, currency, severity, total_score, rules::text, ruleset_version,
                       created_at
                FROM alerts WHERE id > \(after) ORDER BY id LIMIT \(Self.pageSize)
                """)
            var alerts: [CommittedAlert] = []
            var ids: [Int64] = []
            for row in rows {
                ids.append(try row.decode(0))
                let code: String = try row.decode(4)
                let severityText: String = try row.decode(5)
                guard let currency = Currency(code: code.trimmingCharacters(in: .whitespaces)),
                    let severity = Severity(rawValue: severityText)
                else { continue }
                alerts.append(
                    CommittedAlert(
                        id: try row.decode(0), transactionID: try row.decode(1), accountID: try row.decode(2),
                        amount: Money(minorUnits: try row.decode(3), currency: currency), severity: severity,
                        totalScore: try row.decode(6), rules: Self.rules(fromJSON: try row.decode(7)), rulesetVersion: try row.decode(8),
                        createdAt: try row.decode(9)
                    ))
            }
            if !ids.isEmpty { return Page(alerts: alerts, ids: ids, exhausted: ids.count < Self.pageSize, newest: nil) }
            let newest = try await db.query("SELECT coalesce(max(id), 0) FROM alerts").first?.decode(0, as: Int64.self) ?? 0
            return Page(alerts: [], ids: [], exhausted: true, newest: newest)
        } catch let error as PostgresError where error.isConnectionError {
            await db.close()
            connection = nil
            throw error
        }
    }

    /// Closes the connection (shutdown).
    func close() async {
        await connection?.close()
        connection = nil
    }

    private func open() async throws -> PostgresConnection {
        if let connection { return connection }
        let opened = try await PostgresConnection.connect(configuration)
        connection = opened
        return opened
    }

    private struct StoredHit: Decodable {
        var rule: String
        var mode: String?
        var severity: String?
        var score: Int
        var reason: String
        var onError: Bool?

        enum CodingKeys: String, CodingKey {
            case rule, mode, severity, score, reason
            case onError = "on_error"
        }
    }

    /// The `alerts.rules` column (as `DetectionWriter.rulesJSON` wrote it) back to hits.
    static func rules(fromJSON text: String) -> [RuleHitRecord] {
        guard let hits = try? JSONDecoder().decode([StoredHit].self, from: Data(text.utf8)) else { return [] }
        // Only alert-mode hits are stored in `alerts.rules`; an unknown severity is a
        // row written by a newer version, shown as low rather than dropped.
        return hits.map {
            RuleHitRecord(
                ruleID: $0.rule, mode: $0.mode.flatMap(RuleMode.init(rawValue:)) ?? .alert,
                severity: $0.severity.flatMap(Severity.init(rawValue:)) ?? .low, score: $0.score,
                reason: $0.reason, onError: $0.onError ?? false)
        }
    }
}
