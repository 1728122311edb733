import Foundation
import Testing

extension FaultToleranceTests {
    @Test(
        "12f. a record back-dated by months on a busy account raises no velocity alert from later activity and is stored flagged late",
        .timeLimit(.minutes(2)))
    func backDatedRecord() async throws {
        try await ScratchDatabase.with("late") { database in
            let server = try await ServeProcess.start(database: database, name: "serve")
            defer { Task { await server.stop() } }
            // Two days of one payment every two hours, then 25 in the last hour on the same
            // account: the starter rules' velocity rule (10 in an hour, five times the
            // account's usual hourly rate, after a day of history) fires on the later ones.
            let now = Date()
            let history = (0..<24).map { i in
                validLine("busy-h\(i)", account: "acc-busy", amount: "20.00", at: now.addingTimeInterval(Double(i - 26) * 7_200))
            }
            let busy =
                history
                + (0..<25).map { i in
                    validLine("busy-\(i)", account: "acc-busy", amount: "20.00", at: now.addingTimeInterval(Double(i - 25) * 120))
                }
            let first = await FeedStreaming.once(busy, port: server.feedPort)
            #expect(first.replies.count == 49)
            // Then one dated four months earlier, as a delayed batch upload would deliver it.
            let back = validLine("back-1", account: "acc-busy", amount: "20.00", at: now.addingTimeInterval(-120 * 86_400))
            let replies = await FeedStreaming.once([back], port: server.feedPort).replies
            #expect(replies.count == 1)
            if case .ack(let id, _) = replies.first { #expect(id == "back-1") } else { Issue.record("back-1: \(String(describing: replies.first))") }

            let velocityOnBusy = try await database.count(
                "SELECT count(*) FROM rule_hits WHERE rule_id = 'account_velocity_spike' AND transaction_id LIKE 'busy-%'")
            let hitsOnBack = try await database.strings("SELECT rule_id FROM rule_hits WHERE transaction_id = 'back-1'")
            let late = try await database.strings("SELECT id FROM transactions WHERE late")
            let lateMetric = server.metric("vigil_records_late_total") ?? 0
            print(
                "back-dated record: velocity hits on the busy account \(velocityOnBusy); hits on back-1 \(hitsOnBack); late rows \(late); vigil_records_late_total \(lateMetric)"
            )
            #expect(velocityOnBusy > 0, "the scenario must be one where the velocity rule fires on current activity")
            // Per-rule counters agree with the stored hits.
            let velocityHits = try await database.count("SELECT count(*) FROM rule_hits WHERE rule_id = 'account_velocity_spike'")
            #expect(server.metric("vigil_rule_hits_total", labels: ["rule": "account_velocity_spike", "mode": "alert"]) == Double(velocityHits))
            #expect(!hitsOnBack.contains("account_velocity_spike"), "the back-dated record was judged against activity months after it")
            #expect(try await database.count("SELECT count(*) FROM alerts WHERE transaction_id = 'back-1'") == 0)
            #expect(late == ["back-1"])
            #expect(lateMetric == 1)
        }
    }
}
