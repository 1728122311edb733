import Access
import Foundation
import NIOCore
import PostgresStore
import Testing
import VigilCore
import VigilTesting

@testable import Pipeline

#if canImport(Glibc)
import Glibc
#endif

/// Alerts on every transaction, with a reason that carries JavaScript line separators.
let everyTransactionRules = """
    rule every_transaction {
      when amount_base >= 0.00
      severity medium
      score 50
      reason "amount\u{2028}{amount_base}\u{2029}seen"
    }
    """

@Suite("/alerts/stream: bounded subscribers, overflow, resume from stored alerts", .serialized)
struct AlertStreamTests {
    @Test(
        "a subscriber that falls behind gets one overflow event naming its last id, then the end; resuming replays what it missed from PostgreSQL, then live, without gaps or duplicates"
    )
    func overflowThenResumeFromStoredAlerts() async throws {
        try await TestDatabase.withMigrated { database in
            let ruleset = try compileRules(["every.rules": everyTransactionRules])
            let admin = try await PostgresConnection.connect(database)
            try await withVigil(
                database: database, ruleset: ruleset,
                configure: {
                    $0.alertStream = .init(maxSubscribers: 2, bufferEvents: 16, overflowGrace: .seconds(1))
                }
            ) { server, feedPort in
                let opsPort = try #require(await server.ops.boundPortNumber())
                let token = try await TestTokens.create(.viewer, in: database)
                let watcher = try await StreamClient.connect(port: opsPort, token: token, keep: true)
                #expect(await eventually { server.alerts.subscriberCount == 1 })

                // An in-process subscriber that reads two alerts and then stops taking.
                let slow = try #require(server.alerts.subscribe(peer: "test", lastEventID: nil))
                #expect(await slow.next().map { $0.map(text).joined() } == ": vigil alert stream\nretry: 2000\n\n")
                _ = try await send((0..<2).map { line("s-\($0)", account: "acc-s") }, port: feedPort)
                var taken = ""
                while taken.components(separatedBy: "event: alert.created").count - 1 < 2, let chunks = await slow.next() {
                    taken += chunks.map(text).joined()
                }
                let lastTaken = try #require(slow.lastSent)

                // The stream is full (2): a third client is refused with 503 and JSON.
                let refused = try await HTTPExchange.offPool(port: opsPort, path: "/alerts/stream", headers: ["Authorization: Bearer \(token)"])
                #expect(refused.status == 503)
                #expect(refused.body.contains("\"code\":\"too_many_subscribers\""))

                // Twenty more alerts, five per commit: past its buffer of 16, so it overflows;
                // the feed and the other client never wait for it.
                for first in stride(from: 2, to: 22, by: 5) {
                    _ = try await send((first..<(first + 5)).map { line("s-\($0)", account: "acc-s") }, port: feedPort)
                }
                // An ack comes after the commit, not after the flush that offers its alerts to
                // the subscribers. One flush offers the same alerts to every subscriber, so once
                // the reading client has all 22 the slow one has been offered them too (read
                // before that, it would take the last commit's alerts into a buffer with room).
                #expect(await eventually { watcher.state.alerts == 22 })
                let overflow = try #require(await slow.next().map { $0.map(text).joined() })
                #expect(overflow.hasPrefix("event: overflow\ndata: {\"error\":\"overflow\",\"last_event_id\":\(lastTaken),\"buffer\":16,"))
                #expect(await slow.next() == nil)
                #expect(await eventually { server.alerts.subscriberCount == 1 })

                // Resume after the last alert it took: the twenty it missed come from
                // PostgreSQL, then live ones, each once, in id order.
                let resumed = try await StreamClient.connect(port: opsPort, token: token, lastEventID: lastTaken, keep: true)
                #expect(await eventually { resumed.state.alerts == 20 })
                _ = try await send((22..<25).map { line("s-\($0)", account: "acc-s") }, port: feedPort)
                #expect(await eventually { resumed.state.alerts == 23 })
                let stored = try await admin.query("SELECT id FROM alerts WHERE id > \(lastTaken) ORDER BY id").map {
                    try $0.decode(0, as: Int64.self)
                }
                #expect(resumed.state.kept.filter { $0.name == "alert.created" }.compactMap(\.id) == stored)
                #expect(resumed.state.disordered == 0)

                // The reading client saw all 25 live; the line separators arrive escaped.
                #expect(await eventually { watcher.state.alerts == 25 })
                #expect(watcher.state.disordered == 0 && watcher.state.overflows == 0)
                let data = try #require(watcher.state.kept.first { $0.name == "alert.created" }?.data)
                #expect(data.contains("\\u2028") && data.contains("\\u2029"))
                #expect(!data.contains("\u{2028}") && !data.contains("\u{2029}"))
                let object = try #require(try JSONSerialization.jsonObject(with: Data(data.utf8)) as? [String: Any])
                #expect(((object["rules"] as? [[String: Any]])?.first?["reason"] as? String)?.contains("\u{2028}") == true)
                // When the alert was stored, as the queue shows it (not when the event arrived).
                let created = try #require(object["created_at"] as? String)
                let alertID = Int64(try #require(object["alert_id"] as? Int))
                let storedAt = try await admin.query("SELECT created_at FROM alerts WHERE id = \(alertID)")
                #expect(RFC3339.parse(created) == (try storedAt.first?.decode(0, as: Timestamp.self)))
                await watcher.close()
                await resumed.close()
            }
            await admin.close()
        }
    }

    @Test("a resume further back than one page of stored alerts replays every page; an id beyond the newest starts from the newest")
    func resumeAcrossPages() async throws {
        try await TestDatabase.withMigrated { database in
            let ruleset = try compileRules(["every.rules": everyTransactionRules])
            try await withVigil(database: database, ruleset: ruleset) { server, feedPort in
                let opsPort = try #require(await server.ops.boundPortNumber())
                let token = try await TestTokens.create(.viewer, in: database)
                let count = AlertReplayReader.pageSize * 2 + 37
                _ = try await send((0..<count).map { line("p-\($0)", account: "acc-p-\($0 % 40)") }, port: feedPort)
                let all = try await StreamClient.connect(port: opsPort, token: token, lastEventID: 0, keep: true)
                #expect(await eventually { all.state.alerts == count })
                #expect(all.state.disordered == 0)
                let newest = try #require(all.state.lastID)

                let ahead = try await StreamClient.connect(port: opsPort, token: token, lastEventID: newest + 1_000, keep: true)
                #expect(await eventually { server.alerts.subscriberCount == 2 })
                _ = try await send([line("p-last", account: "acc-p-last")], port: feedPort)
                #expect(await eventually { ahead.state.alerts == 1 })
                #expect(ahead.state.kept.last?.id == newest + 1)
                let bad = try await HTTPExchange.offPool(
                    port: opsPort, path: "/alerts/stream", headers: ["Authorization: Bearer \(token)", "Last-Event-ID: yesterday"])
                #expect(bad.status == 400 && bad.body.contains("invalid_last_event_id"), "\(bad)")
                await all.close()
                await ahead.close()
            }
        }
    }

    @Test("the buffer: overflow past capacity drops the queue; a resume skips live alerts it already replayed")
    func subscriberBufferTransitions() throws {
        let currency = try #require(Currency(code: "EUR"))
        func batch(_ ids: [Int64]) -> SSEBatch {
            SSEBatch(
                ids.map {
                    CommittedAlert(
                        id: $0, transactionID: "t\($0)", accountID: "a", amount: Money(minorUnits: 100, currency: currency),
                        severity: .low, totalScore: 1, rules: [], rulesetVersion: "v")
                })
        }
        var live = SubscriberBuffer(capacity: 3, resumeAfter: nil)
        guard case .send = live.take() else {
            Issue.record("greeting first")
            return
        }
        let parked = live.park()
        #expect(parked)
        let r2 = live.offer(batch([1, 2]))
        #expect(r2 == .queued(wake: true))
        let r3 = live.offer(batch([3, 4]))
        #expect(r3 == .overflowed(wake: false))
        #expect(live.queued == 0)
        guard case .overflow(lastSent: nil) = live.take() else {
            Issue.record("overflow event")
            return
        }
        guard case .end = live.take() else {
            Issue.record("then the end")
            return
        }
        let r4 = live.offer(batch([5]))
        #expect(r4 == .ignored)

        // One batch larger than the buffer into an empty queue is keeping up, not behind.
        var burst = SubscriberBuffer(capacity: 3, resumeAfter: nil)
        let r5 = burst.offer(batch([1, 2, 3, 4, 5]))
        #expect(r5 == .queued(wake: false))
        let r6 = burst.offer(batch([6]))
        #expect(r6 == .overflowed(wake: false))

        var resuming = SubscriberBuffer(capacity: 10, resumeAfter: 2)
        _ = resuming.take()
        guard case .replay(after: 2) = resuming.take() else {
            Issue.record("replay first")
            return
        }
        #expect(resuming.offer(batch([4, 5, 6])) == .queued(wake: false))  // committed during the replay
        resuming.replayed(ids: [3, 4, 5], exhausted: true)
        guard case .send(let chunks) = resuming.take() else {
            Issue.record("live after replay")
            return
        }
        #expect(chunks.map(text).joined() == batch([6]).bytes.getString(at: 0, length: batch([6]).bytes.readableBytes))
        #expect(resuming.lastSent == 6)
    }
}

extension AlertStreamTests {
    @Test("an alert's event bytes: every string escaped, the fields in their documented order")
    func eventBytes() throws {
        let currency = try #require(Currency(code: "EUR"))
        let hit = RuleHitRecord(ruleID: "r\"1", mode: .alert, severity: .high, score: 40, reason: "a\nb\u{2028}c", onError: false)
        let alert = CommittedAlert(
            id: 7, transactionID: "t-7", accountID: "acc\\1", amount: Money(minorUnits: -1205, currency: currency), severity: .high,
            totalScore: 55, rules: [hit, hit], rulesetVersion: "v1", createdAt: Timestamp(microsecondsSinceEpoch: 1_795_000_000_123_456))
        let batch = SSEBatch([alert])
        let rule = #"{"rule":"r\"1","score":40,"reason":"a\nb\u2028c"}"#
        #expect(
            text(batch.bytes)
                == "event: alert.created\nid: 7\ndata: "
                + #"{"alert_id":7,"transaction_id":"t-7","account_id":"acc\\1","amount":"-12.05","currency":"EUR","severity":"high","#
                + #""total_score":55,"rules":["# + rule + "," + rule + #"],"ruleset_version":"v1","#
                + #""created_at":"2026-11-18T11:06:40.123456Z"}"# + "\n\n")
        #expect(text(SSEBatch([]).bytes).isEmpty)
    }

    @Test(
        "alerts published within a flush interval reach a subscriber as one buffer (one wake-up, one write); half a buffer pending flushes at once",
        .timeLimit(.minutes(1)))
    func publishingCoalescesPerFlush() async throws {
        let currency = try #require(Currency(code: "EUR"))
        func alerts(_ ids: ClosedRange<Int64>) -> [CommittedAlert] {
            ids.map {
                CommittedAlert(
                    id: $0, transactionID: "t\($0)", accountID: "a", amount: Money(minorUnits: 100, currency: currency), severity: .low,
                    totalScore: 1, rules: [], rulesetVersion: "v")
            }
        }
        func ids(_ chunks: [ByteBuffer]?) -> [Int64] {
            (chunks ?? []).map(text).joined().split(separator: "\n").compactMap { $0.hasPrefix("id: ") ? Int64($0.dropFirst(4)) : nil }
        }
        let broadcaster = AlertBroadcaster(limits: .init(maxSubscribers: 1, bufferEvents: 8, flushInterval: .seconds(2)))
        let subscriber = try #require(broadcaster.subscribe(peer: "test", lastEventID: nil))
        #expect(broadcaster.subscribe(peer: "test", lastEventID: nil) == nil)
        _ = await subscriber.next()  // the greeting
        broadcaster.publish(alerts(1...1))  // after a quiet spell: at once
        #expect(ids(await subscriber.next()) == [1])
        // Three commits inside one interval: one buffer (a single chunk), in id order.
        broadcaster.publish(alerts(2...2))
        broadcaster.publish(alerts(3...3))
        broadcaster.publish(alerts(4...4))
        let coalesced = await subscriber.next()
        #expect(coalesced?.count == 1)
        #expect(ids(coalesced) == [2, 3, 4])
        // Half the buffer (4 of 8) pending goes without waiting for the interval, however long.
        let patient = AlertBroadcaster(limits: .init(maxSubscribers: 1, bufferEvents: 8, flushInterval: .seconds(3600)))
        let second = try #require(patient.subscribe(peer: "test", lastEventID: nil))
        _ = await second.next()
        patient.publish(alerts(1...1))
        #expect(ids(await second.next()) == [1])
        patient.publish(alerts(2...3))
        patient.publish(alerts(4...5))
        #expect(ids(await second.next()) == [2, 3, 4, 5])
        subscriber.finish()
        second.finish()
        #expect(await subscriber.next() == nil)
        #expect(broadcaster.subscriberCount == 0 && patient.subscriberCount == 0)
    }
}

private func text(_ buffer: ByteBuffer) -> String { String(buffer: buffer) }
