import PostgresStore
import Testing
import VigilCore
import VigilTesting

@testable import Console

@Suite("The console's queue query: order, filters, keyset pages")
struct AlertQueueTests {
    /// Stores a transaction and its alert as the writer would (the columns the queue reads).
    static func store(_ id: Int, severity: Severity, rules: [String], on db: PostgresConnection) async throws {
        let tx = "tx-q-\(id)"
        let rulesJSON =
            "["
            + rules.map { "{\"rule\":\(JSONText.quoted($0)),\"severity\":\"\(severity.rawValue)\",\"score\":10,\"reason\":\"r\"}" }
            .joined(separator: ",") + "]"
        _ = try await db.execute(
            """
            INSERT INTO transactions (id, account_id, amount_minor, currency, channel, event_time, raw)
            VALUES (\(tx), 'acc-q', 1000, 'EUR', 'card_present', now(), '{}')
            """)
        _ = try await db.execute(
            """
            INSERT INTO alerts (transaction_id, account_id, amount_minor, currency, severity, total_score, rules, ruleset_version)
            VALUES (\(tx), 'acc-q', 1000, 'EUR', \(severity.rawValue), 10, \(PostgresJSON(rulesJSON))::jsonb, 'rs-test')
            """)
    }

    @Test("highest severity first, newest first within it; pages by keyset cover every alert once, even when alerts arrive between pages")
    func orderAndPages() async throws {
        try await TestDatabase.withMigrated { database in
            try await PostgresConnection.withConnection(database) { db in
                let severities: [Severity] = [.low, .high, .medium, .critical, .high, .low, .medium, .high]
                for (index, severity) in severities.enumerated() {
                    try await Self.store(index, severity: severity, rules: index.isMultiple(of: 2) ? ["even", "any"] : ["odd", "any"], on: db)
                }
                let all = try await AlertQueue.page(.init(), after: nil, limit: 100, on: db).rows
                #expect(all.map(\.transactionID) == [3, 7, 4, 1, 6, 2, 5, 0].map { "tx-q-\($0)" })
                #expect(all.map(\.rules).first == ["odd", "any"])

                var seen: [String] = []
                var cursor: AlertQueue.Cursor?
                var pages = 0
                while true {
                    let page = try await AlertQueue.page(.init(), after: cursor, limit: 3, on: db)
                    seen += page.rows.map(\.transactionID)
                    pages += 1
                    // A new critical alert mid-way belongs before the cursor: no page repeats or skips for it.
                    if pages == 1 { try await Self.store(100, severity: .critical, rules: ["late"], on: db) }
                    guard page.more, let last = page.rows.last else { break }
                    cursor = AlertQueue.Cursor(rank: last.rank, id: last.id)
                }
                #expect(seen == all.map(\.transactionID))
                #expect(pages == 3)
            }
        }
    }

    @Test("filters by severity and by rule, together")
    func filters() async throws {
        try await TestDatabase.withMigrated { database in
            try await PostgresConnection.withConnection(database) { db in
                for (index, severity) in [Severity.high, .high, .low, .medium].enumerated() {
                    try await Self.store(index, severity: severity, rules: index.isMultiple(of: 2) ? ["even"] : ["odd"], on: db)
                }
                let high = try await AlertQueue.page(.init(severity: .high), after: nil, on: db).rows.map(\.transactionID)
                #expect(high == ["tx-q-1", "tx-q-0"])
                let even = try await AlertQueue.page(.init(rule: "even"), after: nil, on: db).rows.map(\.transactionID)
                #expect(even == ["tx-q-0", "tx-q-2"])
                let both = try await AlertQueue.page(.init(severity: .high, rule: "odd"), after: nil, on: db).rows.map(\.transactionID)
                #expect(both == ["tx-q-1"])
                #expect(try await AlertQueue.page(.init(rule: "nothing \"quoted\""), after: nil, on: db).rows.isEmpty)
            }
        }
    }

    @Test("filters by the alert's case: status and assignee")
    func caseFilters() async throws {
        try await TestDatabase.withMigrated { database in
            try await PostgresConnection.withConnection(database) { db in
                // One case per alert, so each can be in its own state.
                try await db.execute("UPDATE case_settings SET group_window = '0 seconds'")
                for index in 0..<3 { try await Self.store(index, severity: .high, rules: ["r"], on: db) }
                try await db.execute(
                    "UPDATE cases SET assignee = 'ann' WHERE id = (SELECT case_id FROM alerts WHERE transaction_id = 'tx-q-1')")
                try await db.execute(
                    """
                    UPDATE cases SET status = 'closed', disposition = 'fraud'
                     WHERE id = (SELECT case_id FROM alerts WHERE transaction_id = 'tx-q-2')
                    """)
                let open = try await AlertQueue.page(.init(status: "open"), after: nil, on: db).rows.map(\.transactionID)
                #expect(open == ["tx-q-1", "tx-q-0"])
                let closed = try await AlertQueue.page(.init(status: "closed"), after: nil, on: db).rows.map(\.transactionID)
                #expect(closed == ["tx-q-2"])
                let ann = try await AlertQueue.page(.init(assignee: "ann"), after: nil, on: db).rows.map(\.transactionID)
                #expect(ann == ["tx-q-1"])
                #expect(try await AlertQueue.page(.init(status: "closed", assignee: "ann"), after: nil, on: db).rows.isEmpty)
            }
        }
    }

    @Test("a page position is only what the queue makes")
    func cursors() {
        #expect(AlertQueue.Cursor("2.15") == AlertQueue.Cursor(rank: 2, id: 15))
        #expect(AlertQueue.Cursor("9.15") == nil)
        #expect(AlertQueue.Cursor("2") == nil)
        #expect(AlertQueue.Cursor("2.-1") == nil)
        #expect(AlertQueue.Cursor("a.b") == nil)
    }
}
