import Foundation
import Testing
import VigilCore

@testable import RuleLanguage

/// Window state driven by a fake clock: each record's timestamp is the clock.
@Suite struct WindowStateTests {
    static let source = """
        window cnt = count by card_id over 10m where channel == "card_not_present"
        window total = sum amount_base by account_id over 1h
        window mean = avg amount_base by account_id over 1h
        window top = max amount_base by account_id over 1h
        window cards = count_distinct card_id by device_id over 24h
        rule r {
          require card_id, device_id
          when window.cnt > 0 and window.total > 0 and (window.mean ?? 0) > 0 and (window.top ?? 0) > 0 and window.cards > 0
          severity low
          score 1
        }
        """

    struct Clock {
        let ruleset: CompiledRuleset
        var state: WindowState

        init(_ ruleset: CompiledRuleset, cap: Int = 4096) {
            self.ruleset = ruleset
            state = WindowState(ruleset: ruleset, limits: .init(maxEventsPerKey: cap))
        }

        /// Observes one transaction at `seconds` after t0 and returns the window values by name.
        mutating func tick(
            _ seconds: Int64, amount: String = "10.00", card: String? = "c-1", device: String? = "d-1",
            channel: Channel = .cardNotPresent, account: String = "a-1"
        ) -> [String: Value] {
            var record = Support.record(
                for: ruleset, at: seconds, account: account, card: card, amount: amount,
                channel: channel, device: device)
            state.observe(&record)
            return Dictionary(uniqueKeysWithValues: ruleset.windows.map { ($0.name, record.window($0.slot)) })
        }
    }

    @Test func countIncludesTheCurrentTransactionAndEvictsAtTheBoundary() throws {
        var clock = Clock(try #require(Support.compile(WindowStateTests.source)))
        #expect(clock.tick(0)["cnt"] == .int(1))
        #expect(clock.tick(60)["cnt"] == .int(2))
        #expect(clock.tick(120, channel: .cardPresent)["cnt"] == .int(2))  // filtered out, window still read
        #expect(clock.tick(599)["cnt"] == .int(3))
        // At exactly 10 minutes the first event (t=0) leaves: the window is (t-10m, t].
        #expect(clock.tick(600)["cnt"] == .int(3))
        #expect(clock.tick(660)["cnt"] == .int(3))
        #expect(clock.tick(5000)["cnt"] == .int(1))
        #expect(clock.tick(5001, card: nil)["cnt"] == .absent)
    }

    @Test func sumAvgMaxAreIncremental() throws {
        var clock = Clock(try #require(Support.compile(WindowStateTests.source)))
        _ = clock.tick(0, amount: "30.00")
        _ = clock.tick(600, amount: "10.00")
        let v = clock.tick(1200, amount: "20.00")
        #expect(v["total"] == .decimal(DecimalValue(units: 60_000_000)))
        #expect(v["mean"] == .decimal(DecimalValue(units: 20_000_000)))
        #expect(v["top"] == .decimal(DecimalValue(units: 30_000_000)))
        let later = clock.tick(3600, amount: "5.00")  // t=0 evicted
        #expect(later["total"] == .decimal(DecimalValue(units: 35_000_000)))
        #expect(later["top"] == .decimal(DecimalValue(units: 20_000_000)))
        let other = clock.tick(3601, amount: "1.00", account: "a-2")
        #expect(other["total"] == .decimal(DecimalValue(units: 1_000_000)))
    }

    @Test func countDistinctCountsValuesNotEvents() throws {
        var clock = Clock(try #require(Support.compile(WindowStateTests.source)))
        #expect(clock.tick(0, card: "c-1")["cards"] == .int(1))
        #expect(clock.tick(10, card: "c-1")["cards"] == .int(1))
        #expect(clock.tick(20, card: "c-2")["cards"] == .int(2))
        #expect(clock.tick(30, card: nil)["cards"] == .int(2))
        #expect(clock.tick(86_400 + 15, card: "c-3")["cards"] == .int(2))  // c-1 (t=0, t=10) gone, c-2 stays
        #expect(clock.tick(30, device: nil)["cards"] == .absent)
    }

    @Test func memoryPerKeyIsBounded() throws {
        var clock = Clock(try #require(Support.compile(WindowStateTests.source)), cap: 8)
        var last: [String: Value] = [:]
        for i in 0..<100 { last = clock.tick(Int64(i), amount: i == 0 ? "99.00" : "1.00") }
        #expect(last["cnt"] == .int(8))
        #expect(last["total"] == .decimal(DecimalValue(units: 8_000_000)))
        #expect(last["top"] == .decimal(DecimalValue(units: 1_000_000)))  // the 99.00 was dropped with the oldest
        #expect(clock.state.tables.allSatisfy { $0.values.allSatisfy { $0.count <= 8 } })
    }

    @Test func outOfOrderEventsCountAtTheNewestTime() throws {
        var clock = Clock(try #require(Support.compile(WindowStateTests.source)))
        _ = clock.tick(1000)
        #expect(clock.tick(500)["cnt"] == .int(2))
        #expect(clock.tick(1599)["cnt"] == .int(3))
        #expect(clock.tick(1600)["cnt"] == .int(2))  // both events stored at 1000 leave together
    }

    @Test func idleKeysAreEvicted() throws {
        var clock = Clock(try #require(Support.compile(WindowStateTests.source)))
        _ = clock.tick(0, card: "c-1", account: "a-1")
        _ = clock.tick(0, card: "c-2", account: "a-2")
        #expect(clock.state.keyCount == 9)  // two keys in each of four windows, one device
        clock.state.evictIdle(now: Support.t0.adding(microseconds: 3600 * 1_000_000))
        #expect(clock.state.keyCount == 1)  // only the 24h device window still holds d-1
        clock.state.evictIdle(now: Support.t0.adding(microseconds: 86_400 * 1_000_000))
        #expect(clock.state.keyCount == 0)
    }

    @Test func replayRebuildsAndMigrationKeepsUnchangedWindows() throws {
        let v1 = try #require(Support.compile(WindowStateTests.source))
        var a = WindowState(ruleset: v1)
        let records = (0..<5).map { Support.record(for: v1, at: Int64($0) * 60) }
        a.replay(records)
        var probe = Support.record(for: v1, at: 301)
        a.observe(&probe)
        #expect(probe.window(0) == .int(6))

        let v2 = try #require(Support.compile(WindowStateTests.source.replacingOccurrences(of: "over 1h", with: "over 2h")))
        var b = a.migrated(to: v2)
        var next = Support.record(for: v2, at: 302)
        b.observe(&next)
        #expect(next.window(0) == .int(7))  // cnt unchanged: state kept
        #expect(next.window(1) == .decimal(DecimalValue(units: 10_000_000)))  // total changed: rebuilt
    }
}
