import FeedServer
import Foundation
import Testing
import VigilTesting

extension FaultToleranceTests {
    @Test(
        "8. an id reused for other content on a real vigil serve: nacked id_conflict, kept with both digests, logged, counted; a replay is a duplicate",
        .timeLimit(.minutes(3)))
    func idConflict() async throws {
        try await ScratchDatabase.with("idconflict") { database in
            let server = try await ServeProcess.start(database: database, name: "serve")
            defer { Task { await server.stop() } }
            let now = rfc3339(Date())
            // The probe's case: 10.00 EUR on one account, then the same id for 9999.00 USD on another.
            let original = #"{"id":"probe-1","timestamp":"\#(now)","account_id":"acc-1","amount":"10.00","currency":"EUR","channel":"card_present"}"#
            let reused = #"{"id":"probe-1","timestamp":"\#(now)","account_id":"acc-2","amount":"9999.00","currency":"USD","channel":"card_present"}"#
            let respelled =
                #"{ "channel" : "card_present", "currency" : "EUR", "amount" : "10.0", "account_id" : "acc-1", "timestamp" : "\#(now)", "id" : "probe-1" }"#

            let first = await FeedStreaming.once([original], port: server.feedPort)
            // The conflict, a genuine replay and a new id in one write, and the conflict
            // again beside the original, both in flight at once.
            let second = await FeedStreaming.once([reused, respelled, validLine("probe-2", account: "acc-2")], port: server.feedPort)
            let third = await FeedStreaming.once(
                [validLine("probe-3", account: "acc-3"), reused.replacingOccurrences(of: "probe-1", with: "probe-3")],
                port: server.feedPort)
            print("id conflict: first \(first.replies), then \(second.replies), then \(third.replies)")

            #expect(first.replies == [.ack(id: "probe-1", duplicate: false)])
            #expect(second.replies.count == 3 && third.replies.count == 2)
            for reply in [second.replies.first, third.replies.last] {
                guard case .nack(let id, let code, let message) = reply else {
                    Issue.record("expected an id_conflict nack, got \(String(describing: reply))")
                    continue
                }
                #expect(code == "id_conflict" && message.contains("'\(id ?? "")'") && message.contains("new id"), "\(message)")
            }
            #expect(second.replies.dropFirst().elementsEqual([.ack(id: "probe-1", duplicate: true), .ack(id: "probe-2", duplicate: false)]))
            #expect(third.replies.first == .ack(id: "probe-3", duplicate: false))

            // The stored transaction is the first one; the conflicts are kept with both digests.
            let stored = try await database.strings(
                "SELECT account_id || ' ' || amount_minor || ' ' || currency FROM transactions WHERE id = 'probe-1'")
            #expect(stored == ["acc-1 1000 EUR"])
            let rejects = try await database.strings(
                """
                SELECT r.record_id || ' ' || encode(r.stored_digest, 'hex') || ' ' || encode(r.received_digest, 'hex')
                FROM rejected_records r JOIN transactions t ON t.id = r.record_id
                WHERE r.error_code = 'id_conflict' AND r.stored_digest = t.content_digest AND r.received_digest <> t.content_digest
                ORDER BY r.id
                """)
            print("id conflict: rejected_records \(rejects)")
            #expect(rejects.count == 2)
            #expect(try await database.count("SELECT count(*) FROM transactions") == 3)

            let counted = await eventually(timeout: .seconds(10), poll: .milliseconds(50)) { server.metric("vigil_records_id_conflict_total") == 2 }
            #expect(counted, "vigil_records_id_conflict_total = \(String(describing: server.metric("vigil_records_id_conflict_total")))")
            let logged = server.child.log.split(separator: "\n").filter { $0.contains("id conflict") }
            print("id conflict: log \(logged.map { String($0.prefix(300)) })")
            #expect(logged.count == 2)
            #expect(server.child.isRunning)
        }
    }
}
