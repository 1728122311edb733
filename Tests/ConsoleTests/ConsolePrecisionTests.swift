import Cases
import PostgresStore
import Testing
import VigilCore
import VigilTesting

@testable import Console

@Suite("The rules page's precision per day, from dispositions in PostgreSQL", .serialized)
struct ConsolePrecisionTests {
    /// Alerts on several past days of `rule_a` (alert mode, with `rule_b` in shadow on some),
    /// closed as fraud, legitimate or inconclusive, or left open.
    static let history: [DispositionHistory.Alert] = [
        .init(id: "tx-p-0a", daysAgo: 0, hits: [("rule_a", "alert")], disposition: .fraud),
        .init(id: "tx-p-0b", daysAgo: 0, hits: [("rule_a", "alert")], disposition: .legitimate),
        .init(id: "tx-p-0c", daysAgo: 0, hits: [("rule_a", "alert")], disposition: nil),
        .init(id: "tx-p-2a", daysAgo: 2, hits: [("rule_a", "alert"), ("rule_b", "shadow")], disposition: .fraud),
        .init(id: "tx-p-2b", daysAgo: 2, hits: [("rule_a", "alert")], disposition: .fraud),
        .init(id: "tx-p-2c", daysAgo: 2, hits: [("rule_a", "alert")], disposition: .fraud),
        .init(id: "tx-p-3a", daysAgo: 3, hits: [("rule_a", "alert"), ("rule_b", "shadow")], disposition: nil),
        .init(id: "tx-p-5a", daysAgo: 5, hits: [("rule_a", "alert")], disposition: .legitimate),
        .init(id: "tx-p-5b", daysAgo: 5, hits: [("rule_a", "alert")], disposition: .inconclusive),
        .init(id: "tx-p-10a", daysAgo: 10, hits: [("rule_a", "alert")], disposition: .inconclusive),
        .init(id: "tx-p-29a", daysAgo: 29, hits: [("rule_a", "alert")], disposition: .legitimate),
        .init(id: "tx-p-30a", daysAgo: 30, hits: [("rule_a", "alert")], disposition: .fraud),
        .init(id: "tx-p-40a", daysAgo: 40, hits: [("rule_c", "alert")], disposition: .fraud),
    ]

    @Test("each day's precision is fraud ÷ (fraud + legitimate) of that day's disposed alerts; open-only days are gaps; the window is 30 UTC days")
    func perDay() async throws {
        try await TestDatabase.withMigrated { database in
            try await PostgresConnection.withConnection(database) { db in
                try await DispositionHistory.store(Self.history, on: db)
                let stats = try await RuleStats.load(on: db)
                #expect(stats.rules.map(\.id) == ["rule_a", "rule_b"], "rule_c's only disposition is 40 days old")
                let a = try #require(stats.rules.first { $0.id == "rule_a" })
                let b = try #require(stats.rules.first { $0.id == "rule_b" })
                #expect(a.precisionByDay.count == 30)
                func day(_ rule: RuleStats.Rule, _ daysAgo: Int) -> PrecisionChart.Day? { rule.precisionByDay[29 - daysAgo] }
                #expect(day(a, 0) == .init(date: try await DispositionHistory.date(daysAgo: 0, on: db), fraud: 1, legitimate: 1))
                #expect(day(a, 2) == .init(date: try await DispositionHistory.date(daysAgo: 2, on: db), fraud: 3))
                #expect(day(a, 3) == nil, "the day's only alert is still open")
                #expect(day(a, 5) == .init(date: try await DispositionHistory.date(daysAgo: 5, on: db), legitimate: 1, inconclusive: 1))
                #expect(day(a, 10)?.inconclusive == 1 && day(a, 10)?.judged == 0)
                #expect(day(a, 29)?.legitimate == 1, "29 days ago is the window's first day")
                #expect(a.precisionByDay.compactMap { $0 }.count == 5)
                // A shadow hit is judged by the alert's disposition.
                #expect(day(b, 2)?.fraud == 1 && b.precisionByDay.compactMap { $0 }.count == 1)
                // The 7-day figure is the last 7 days of the chart added up: 4 fraud, 2 legitimate.
                #expect(a.lastWeek.fraud == 4 && a.lastWeek.legitimate == 2 && a.lastWeek.inconclusive == 1)
            }
        }
    }

    @Test("the rules page draws it: a tooltip per disposed day, the 7-day figure, and a note for a rule with nothing disposed")
    func page() async throws {
        try await TestDatabase.withMigrated { database in
            let token = try await TestTokens.create(.viewer, name: "vic", in: database)
            try await withConsoleVigil(database: database) { feedPort, httpPort in
                // A hit of a rule whose alert nobody has disposed.
                try await sendFeed([feedLine("tx-p-live", amount: "700.00")], port: feedPort)
                let dates = try await PostgresConnection.withConnection(database) { db in
                    try await waitUntil("the live alert") { (try? await db.query("SELECT 1 FROM alerts").count) == 1 }
                    try await DispositionHistory.store(Self.history, on: db)
                    return (
                        today: try await DispositionHistory.date(daysAgo: 0, on: db), two: try await DispositionHistory.date(daysAgo: 2, on: db),
                        five: try await DispositionHistory.date(daysAgo: 5, on: db)
                    )
                }
                let http = ConsoleHTTP(port: httpPort)
                let page = try await http.get("/console/rules", session: try await http.signIn(token: token))
                #expect(page.status == 200)
                #expect(page.body.contains("<title>alerts raised \(dates.today) (UTC): 50% fraud, 1 of 2 judged (1 legitimate)</title>"))
                #expect(page.body.contains("<title>alerts raised \(dates.two) (UTC): 100% fraud, 3 of 3 judged (0 legitimate)</title>"))
                #expect(
                    page.body.contains(
                        "<title>alerts raised \(dates.five) (UTC): 0% fraud, 0 of 1 judged (1 legitimate); 1 inconclusive, not counted</title>"))
                #expect(page.body.contains("aria-label=\"precision of rule_a per day of the alert (UTC), last 30 days: 4 of 30 days with a figure"))
                #expect(page.body.contains("<td class=\"num precision\">67% of 6</td>"))
                let large = try #require(page.body.range(of: "<code>large_amount</code>"))
                let row = page.body[large.lowerBound...].prefix { $0 != "\n" }
                #expect(row.contains("none disposed in 30 days") && row.contains("<td class=\"num precision\">–</td>"), "\(row)")
            }
        }
    }
}
