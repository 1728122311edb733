import Cases
import Foundation
import PostgresStore
import Testing
import VigilCore
import VigilTesting

/// Stores a transaction and an alert on it as the writer does (the grouping trigger runs).
private func raise(
    _ id: String, account: String, severity: String = "medium", score: Int = 40, rule: String = "r1", at: String? = nil,
    on db: PostgresConnection
) async throws -> (alert: Int64, case: Int64) {
    try await db.execute(
        """
        INSERT INTO transactions (id, account_id, amount_minor, currency, channel, event_time, raw)
        VALUES (\(id), \(account), 12345, 'EUR', 'card_not_present', now(), '{}'::json)
        """)
    let rules = "[{\"rule\":\"\(rule)\",\"severity\":\"\(severity)\",\"score\":\(score),\"reason\":\"r\",\"on_error\":false}]"
    let row = try #require(
        try await db.query(
            """
            INSERT INTO alerts (transaction_id, account_id, amount_minor, currency, severity, total_score, rules, ruleset_version, created_at)
            VALUES (\(id), \(account), 12345, 'EUR', \(severity), \(score), \(rules)::jsonb, 'v1', coalesce(\(at)::timestamptz, now()))
            RETURNING id, case_id
            """
        ).first)
    return (try row.decode(0), try row.decode(1))
}

@Suite("Cases: grouping, transitions, concurrent writers, history, pages, labels", .serialized)
struct CaseStoreTests {
    @Test("alerts of one account within the window share a case (severity the highest); others, later ones and closed cases open new ones")
    func grouping() async throws {
        try await TestDatabase.withMigrated { database in
            try await PostgresConnection.withConnection(database) { db in
                let a1 = try await raise("t1", account: "a", severity: "medium", at: "2026-01-01T00:00:00Z", on: db)
                let a2 = try await raise("t2", account: "a", severity: "critical", score: 90, at: "2026-01-01T10:00:00Z", on: db)
                let b1 = try await raise("t3", account: "b", at: "2026-01-01T10:00:00Z", on: db)
                let a3 = try await raise("t4", account: "a", at: "2026-01-02T11:00:00Z", on: db)  // 25 h after a2
                #expect(a1.case == a2.case && b1.case != a1.case && a3.case != a1.case)
                let summary = try await CaseStore.case(id: a1.case, on: db)
                #expect(summary["alert_count"] == .int(2) && summary["severity"] == .string("critical") && summary["max_score"] == .int(90))
                _ = try await CaseStore.apply(.close(.fraud, reason: nil), toCase: a3.case, by: "alice", on: db)
                let a4 = try await raise("t5", account: "a", at: "2026-01-02T11:30:00Z", on: db)
                #expect(a4.case != a3.case, "a closed case takes no more alerts")
                try await db.execute("UPDATE case_settings SET group_window = '0 seconds'")
                let a5 = try await raise("t6", account: "a", at: "2026-01-02T11:31:00Z", on: db)
                #expect(a5.case != a4.case)
            }
        }
    }

    @Test(
        "transitions: reviewing, a second identical move, closing without a required reason, closing twice, stale revisions → 409; notes after closing are kept"
    )
    func transitions() async throws {
        try await TestDatabase.withMigrated { database in
            try await PostgresConnection.withConnection(database) { db in
                let id = try await raise("t1", account: "a", on: db).case
                func refusal(_ change: CaseChange, revision: Int64? = nil) async -> CaseError? {
                    do {
                        _ = try await CaseStore.apply(change, toCase: id, expectedRevision: revision, by: "alice", on: db)
                        return nil
                    } catch { return error as? CaseError }
                }
                #expect(await refusal(.status(.open))?.code == "invalid_transition")
                #expect(await refusal(.status(.inReview)) == nil)
                #expect(await refusal(.status(.closed))?.kind == .invalidRequest)
                #expect(await refusal(.close(.legitimate, reason: nil))?.code == "reason_required")
                #expect(await refusal(.close(.inconclusive, reason: ""))?.code == "reason_required")
                #expect(await refusal(.note("x"), revision: 1)?.code == "revision_mismatch")
                #expect(await refusal(.close(.legitimate, reason: "regular customer, travelling")) == nil)
                #expect(await refusal(.close(.fraud, reason: nil))?.code == "case_closed")
                #expect(await refusal(.assign("bob"))?.code == "case_closed")
                #expect(await refusal(.note("the customer called back")) == nil)
                #expect(await refusal(.note("   "))?.kind == .invalidRequest)
                let detail = try await CaseStore.case(id: id, on: db)
                #expect(detail["disposition"] == .string("legitimate") && detail["disposition_reason"] == .string("regular customer, travelling"))
                let kinds = try await db.query("SELECT kind FROM case_events WHERE case_id = \(id) ORDER BY id").map {
                    try $0.decode(0, as: String.self)
                }
                #expect(kinds == ["opened", "status", "disposed", "note"])
                // The history cannot be rewritten.
                await #expect(throws: PostgresError.self) { try await db.execute("UPDATE case_events SET actor = 'mallory'") }
                await #expect(throws: PostgresError.self) { try await db.execute("DELETE FROM case_events") }
            }
        }
    }

    @Test("two writers on one case: both closing → exactly one wins, the other gets 409; both assigning → both kept in the history")
    func concurrentWriters() async throws {
        try await TestDatabase.withMigrated { database in
            let id = try await PostgresConnection.withConnection(database) { try await raise("t1", account: "a", on: $0).case }
            let first = try await PostgresConnection.connect(database)
            let second = try await PostgresConnection.connect(database)
            for round in 0..<5 {
                async let a: String? = Self.outcome { try await CaseStore.apply(.assign("alice-\(round)"), toCase: id, by: "alice", on: first) }
                async let b: String? = Self.outcome { try await CaseStore.apply(.assign("bob-\(round)"), toCase: id, by: "bob", on: second) }
                let results = await [a, b]
                #expect(results.allSatisfy { $0 == nil }, "\(results)")
            }
            let assignments = try await first.query("SELECT count(*) FROM case_events WHERE case_id = \(id) AND kind = 'assigned'")
            #expect(try assignments.first?.decode(0, as: Int.self) == 10)
            let revision = try await first.query("SELECT revision FROM cases WHERE id = \(id)").first?.decode(0, as: Int.self)
            #expect(revision == 11)
            async let a: String? = Self.outcome { try await CaseStore.apply(.close(.fraud, reason: nil), toCase: id, by: "alice", on: first) }
            async let b: String? = Self.outcome {
                try await CaseStore.apply(.close(.legitimate, reason: "known"), toCase: id, by: "bob", on: second)
            }
            let results = await [a, b]
            #expect(results.filter { $0 == nil }.count == 1 && results.contains("case_closed"), "\(results)")
            let disposed = try await first.query("SELECT count(*) FROM case_events WHERE case_id = \(id) AND kind = 'disposed'")
            #expect(try disposed.first?.decode(0, as: Int.self) == 1)
            await first.close()
            await second.close()
        }
    }

    /// nil when the change succeeded, else the refusal's code.
    static func outcome(_ body: () async throws -> JSON) async -> String? {
        do {
            _ = try await body()
            return nil
        } catch let error as CaseError {
            return error.code
        } catch {
            return "\(error)"
        }
    }

    @Test("pages: filters, a cursor stable while alerts arrive (no repeat, no gap), bad cursors and unknown filters refused")
    func pages() async throws {
        try await TestDatabase.withMigrated { database in
            try await PostgresConnection.withConnection(database) { db in
                for i in 0..<7 { _ = try await raise("t\(i)", account: "a\(i % 3)", rule: i % 2 == 0 ? "even" : "odd", on: db) }
                var filter = try ListFilter(parameters: [("limit", "3")])
                let page1 = try await CaseStore.alerts(filter, on: db)
                _ = try await raise("late", account: "a0", on: db)  // arrives between pages
                filter.before = try #require(page1.nextCursor.flatMap { ListFilter(cursorForTest: $0)?.before })
                let page2 = try await CaseStore.alerts(filter, on: db)
                filter.before = try #require(page2.nextCursor.flatMap { ListFilter(cursorForTest: $0)?.before })
                let page3 = try await CaseStore.alerts(filter, on: db)
                #expect(page3.nextCursor == nil)
                let ids = (page1.items + page2.items + page3.items).compactMap { $0["transaction_id"]?.cell }
                #expect(ids == (0..<7).reversed().map { "t\($0)" })
                let even = try await CaseStore.alerts(try ListFilter(parameters: [("rule", "even"), ("account", "a0")]), on: db)
                #expect(even.items.compactMap { $0["transaction_id"]?.cell } == ["t6", "t0"])
                #expect(throws: CaseError.self) { try ListFilter(parameters: [("cursor", "djE6YWJj")]) }  // "v1:abc"
                #expect(throws: CaseError.self) { try ListFilter(parameters: [("sort", "id")]) }
                #expect(throws: CaseError.self) { try ListFilter(parameters: [("limit", "5"), ("limit", "6")]) }
                #expect(throws: CaseError.self) { try ListFilter(parameters: [("from", "2026-02-01T00:00:00Z"), ("to", "2026-01-01T00:00:00Z")]) }
            }
        }
    }

    @Test("closing writes case.updated and alert.disposed webhooks with the schemas' required members; labels export as JSON lines")
    func lifecycleWebhooksAndExport() async throws {
        try await TestDatabase.withMigrated { database in
            try await PostgresConnection.withConnection(database) { db in
                try await db.execute(
                    """
                    INSERT INTO webhook_endpoints (url, secret, event_types)
                    VALUES ('https://example.com/hook', 'whsec_x', '{alert.created,case.updated,alert.disposed}')
                    """)
                let first = try await raise("t1", account: "a", on: db)
                _ = try await raise("t2", account: "a", on: db)
                _ = try await CaseStore.apply(.assign("alice"), toCase: first.case, by: "alice", on: db)
                _ = try await CaseStore.apply(.close(.fraud, reason: nil), toCase: first.case, by: "alice", on: db)
                let rows = try await db.query("SELECT event_type, payload::text FROM webhook_outbox ORDER BY id")
                let events = try rows.map { (try $0.decode(0, as: String.self), try $0.decode(1, as: String.self)) }
                #expect(events.map(\.0) == ["case.updated", "case.updated", "alert.disposed", "alert.disposed"])
                for (type, payload) in events {
                    let schema = try Self.schema(type == "case.updated" ? "webhook-case-updated" : "webhook-alert-disposed")
                    let body = try #require(try JSONSerialization.jsonObject(with: Data(payload.utf8)) as? [String: Any])
                    #expect(body["type"] as? String == type)
                    let data = try #require(body["data"] as? [String: Any])
                    let required = try #require(((schema["properties"] as? [String: Any])?["data"] as? [String: Any])?["required"] as? [String])
                    #expect(Set(required).isSubset(of: Set(data.keys)), "\(type): missing \(Set(required).subtracting(data.keys))")
                }
                // Against a generated feed's labels (vigil feed score): t1 was fraud, t2 was not.
                let agreement = try await DispositionScore.read(fraudTransactions: ["t1"], on: db)
                #expect(agreement.fraud == 2 && agreement.fraudAgrees == 1 && agreement.legitimate == 0)
                #expect(agreement.text.contains("fraud 1/2"))
                var lines: [String] = []
                let count = try await CaseStore.exportLabels(since: Timestamp.now().adding(microseconds: -3_600_000_000), on: db) { lines.append($0) }
                #expect(count == 2 && lines.allSatisfy { $0.contains("\"label\":\"fraud\"") })
            }
        }
    }

    static func schema(_ name: String) throws -> [String: Any] {
        let url = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent()
            .appendingPathComponent("Schemas/\(name).schema.json")
        return try #require(try JSONSerialization.jsonObject(with: Data(contentsOf: url)) as? [String: Any])
    }
}

extension ListFilter {
    /// Decodes a cursor the way a request's `cursor` parameter is read.
    init?(cursorForTest cursor: String) {
        guard let filter = try? ListFilter(parameters: [("cursor", cursor)]), let before = filter.before else { return nil }
        self = filter
        self.before = before
    }
}
