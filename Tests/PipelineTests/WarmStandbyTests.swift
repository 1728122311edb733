import Detection
import FeedServer
import Foundation
import PostgresStore
import Testing
import VigilCore
import VigilTesting

@testable import Pipeline
@testable import RuleLanguage

/// Windows keyed by the account and shared across accounts (card, device), with sums and
/// distinct counts, none reading the profile (see "Warm standby" in docs/operations.md).
let warmStandbyRules = """
    window txn_per_account_1h = count by account_id over 1h
    window spend_per_account_1h = sum amount_base by account_id over 1h
    window merchants_per_account_1h = count_distinct merchant_id by account_id over 1h
    window cnp_per_card_10m = count by card_id over 10m where channel == "card_not_present"
    window accounts_per_device_1h = count_distinct account_id by device_id over 1h

    rule account_burst {
      description "many transactions, spend or merchants on one account in an hour"
      when window.txn_per_account_1h >= 20 or window.spend_per_account_1h >= 1500.00 or window.merchants_per_account_1h >= 9
      severity medium
      score 30
      reason "{window.txn_per_account_1h} transactions in an hour"
    }

    rule card_burst {
      description "card-not-present charges on one card"
      require card_id
      when window.cnp_per_card_10m >= 3
      severity high
      score 80
      reason "{window.cnp_per_card_10m} CNP charges on {card_id}"
    }

    rule shared_device {
      description "one device used by several accounts"
      require device_id
      when window.accounts_per_device_1h >= 4
      severity low
      score 10
      reason "{window.accounts_per_device_1h} accounts on {device_id}"
    }
    """

/// What detection holds, in comparable form.
struct DetectionContents: Equatable {
    var profiles: [String: AccountProfile]
    var histories: [EntityKey: EntityStats]
    var windows: [String: [String: [WindowEntry]]]

    /// `state` as a transaction at `time` would see its windows.
    init(_ state: DetectionState, at time: Timestamp) {
        var profiles: [String: AccountProfile] = [:]
        var windows: [String: [String: [WindowEntry]]] = [:]
        for shard in state.shared.shardStates() {
            for (name, keys) in shard.contents(at: time.microsecondsSinceEpoch) { windows[name, default: [:]].merge(keys) { a, _ in a } }
        }
        for partition in state.partitions {
            partition.state.withLock { memory in
                profiles.merge(memory.profiles) { a, _ in a }
                for window in memory.windows {
                    for (name, keys) in window.contents(at: time.microsecondsSinceEpoch) { windows[name, default: [:]].merge(keys) { a, _ in a } }
                }
            }
        }
        self.profiles = profiles
        self.windows = windows
        histories = state.history.all()
    }
}

/// One counted event as a window holds it.
struct WindowEntry: Hashable {
    var time: Int64
    var number: Int64
    var text: String?
}

extension WindowState {
    /// What each window would count for a transaction at `time` (the events after
    /// `time - duration`), by window name, then key; keys with none left out.
    func contents(at time: Int64) -> [String: [String: [WindowEntry]]] {
        var result: [String: [String: [WindowEntry]]] = [:]
        for (i, spec) in specs.enumerated() {
            let cutoff = time &- spec.duration
            for (key, window) in tables[i] {
                let live = window.events[window.head...].filter { $0.time > cutoff }
                    .map { WindowEntry(time: $0.time, number: $0.number, text: $0.text) }
                if !live.isEmpty { result[spec.name, default: [:]][key] = live }
            }
        }
        return result
    }
}

@Suite("Warm standby: state kept current while standing by equals the leader's and a start's")
struct WarmStandbyTests {
    /// 40 accounts sharing 10 cards, 10 devices and 10 merchants, one transaction each per
    /// round, rounds 120 s apart in event time; the rows of a group of 10 share no card,
    /// device or merchant, and groups are sent one after the other, so every shared key
    /// sees its transactions committed in event-time order (as the rebuild replays them).
    static func group(_ round: Int, _ group: Int, start: Timestamp) -> [String] {
        (group * 10..<group * 10 + 10).map { a in
            let time = start.adding(microseconds: Int64(round * 120 + a) * 1_000_000)
            let amount = "\(10 + (a * 7 + round * 13) % 90).\(round % 10)0"
            return line(
                "w-\(round)-\(a)", account: "acc-\(a)", at: time, amount: amount,
                channel: round % 2 == 0 ? "card_not_present" : "card_present", card: "card-\(a % 10)", device: "dev-\(a % 10)",
                merchant: "m-\((a + round) % 10)")
        }
    }

    static func sendRounds(_ rounds: Range<Int>, start: Timestamp, port: Int) async throws {
        for round in rounds {
            for g in 0..<4 {
                let replies = try await send(group(round, g, start: start), port: port)
                #expect(replies.allSatisfy { if case .ack(_, false) = $0 { true } else { false } }, "\(replies)")
            }
        }
    }

    static func ha(_ name: String) -> (inout ServeConfiguration) -> Void {
        { configuration in
            configuration.highAvailability = HighAvailability(lease: .seconds(1), node: name, feedAddress: "\(name).example:7400")
            configuration.feed.drainTimeout = .seconds(1)
            configuration.profileCheckpointInterval = .milliseconds(700)
        }
    }

    /// Ends `node`'s lease until `standby` takes it. Once is not enough: the leader renews
    /// every third of the lease whatever the expiry, so a loaded machine can let it renew
    /// an ended lease before the standby's next poll, and then keep it.
    static func handOver(from node: String, to standby: Leadership, database: PostgresConfiguration) async throws {
        try await PostgresConnection.withConnection(database) { db in
            try await waitUntil(within: .seconds(10), "node \(node)'s lease to pass to the standby (\(standby.role))", poll: .milliseconds(100)) {
                if standby.isLeader { return true }
                _ = try await db.execute("UPDATE leader_lease SET expires_at = '-infinity' WHERE holder LIKE \(node + "/%")")
                return false
            }
        }
    }

    @Test("a standby that loaded state, then followed the leader's commits, holds at takeover what the leader held, and what a start builds after")
    func warmStateEqualsLeaderAndColdStart() async throws {
        try await TestDatabase.withMigrated { database in
            let ruleset = try compileRules(["w.rules": warmStandbyRules])
            let start = Timestamp.now().adding(microseconds: -3 * 3_600 * 1_000_000)
            let newest = start.adding(microseconds: Int64(35 * 120 + 39) * 1_000_000)
            let (atTakeover, leaderHeld) = try await withVigil(database: database, ruleset: ruleset, configure: Self.ha("warm-a")) { a, portA in
                let leaderA = try #require(a.leadership)
                try await waitUntil(within: .seconds(10), "node a to take the lease") { leaderA.isLeader }
                try await Self.sendRounds(0..<12, start: start, port: portA)
                return try await withVigil(database: database, ruleset: ruleset, configure: Self.ha("warm-b")) { b, _ in
                    let standby = try #require(b.leadership)
                    try await waitUntil(within: .seconds(30), "node b to load its state as a standby") {
                        b.bootstrap.tail.progress.withLock { $0.loaded }
                    }
                    #expect(!b.health.readiness.ready)
                    // Followed while standing by: the rounds, a re-sent record (stored once,
                    // counted once) and a late one (stored, counted nowhere).
                    try await Self.sendRounds(12..<28, start: start, port: portA)
                    let resent = try await send([Self.group(3, 0, start: start)[0]], port: portA)
                    #expect(resent == [.ack(id: "w-3-0", duplicate: true)])
                    let late = line("w-late", account: "acc-1", at: start.adding(microseconds: (27 * 120 - 1_800) * 1_000_000), card: "card-1")
                    #expect(try await send([late], port: portA) == [.ack(id: "w-late", duplicate: false)])
                    try await PostgresConnection.withConnection(database) { db in
                        let newestStored = try await DetectionStore.latestPosition(on: db)
                        try await waitUntil(within: .seconds(20), "node b to apply what node a committed") {
                            b.bootstrap.tail.progress.withLock { $0.position } == newestStored
                        }
                        let late = try await db.count("SELECT count(*)::int FROM transactions WHERE late")
                        #expect(late == 1)
                    }
                    // The last rounds are committed just before the leader stops renewing:
                    // the standby catches them up when it takes over.
                    try await Self.sendRounds(28..<36, start: start, port: portA)
                    let leaderHeld = DetectionContents(a.detection, at: newest)
                    try await Self.handOver(from: "warm-a", to: standby, database: database)
                    try await waitUntil(within: .seconds(20), "node b to be ready") { b.health.readiness.ready }
                    return (DetectionContents(b.detection, at: newest), leaderHeld)
                }
            }
            #expect(leaderHeld.profiles.count == 40)
            #expect(leaderHeld.profiles["acc-1"]?.count == 36, "the re-sent and the late record counted nowhere")
            #expect(leaderHeld.windows.keys.sorted() == ruleset.windows.map(\.name).sorted(), "every window holds events")
            #expect(leaderHeld.histories.count == 30)
            #expect(atTakeover == leaderHeld, "the warm standby holds at takeover what the leader held")
            if atTakeover != leaderHeld { Self.explain(atTakeover, leaderHeld) }

            // A start on the database the new leader checkpointed at its shutdown.
            let cold = DetectionState(ruleset: ruleset, baseCurrency: "EUR", partitionCount: 2)
            let loader = DetectionBootstrap(state: cold, health: PipelineHealth(), database: database, rulesetFiles: [])
            let loading = Task { try await loader.run() }
            try await waitUntil(within: .seconds(20), "a cold start to load state") { cold.ready.isRaised }
            loading.cancel()
            _ = try? await loading.value
            let coldStart = DetectionContents(cold, at: newest)
            #expect(atTakeover == coldStart, "what a start builds from the database equals what the warm standby held")
            if atTakeover != coldStart { Self.explain(atTakeover, coldStart) }

            let (stored, alertedTwice, alerts) = try await PostgresConnection.withConnection(database) { db in
                (
                    try await db.count("SELECT count(*)::int FROM transactions"),
                    try await db.count("SELECT count(*)::int FROM (SELECT transaction_id FROM alerts GROUP BY 1 HAVING count(*) > 1) d"),
                    try await db.count("SELECT count(*)::int FROM alerts")
                )
            }
            #expect(stored == 36 * 40 + 1)
            #expect(alertedTwice == 0)
            #expect(alerts > 0)
        }
    }

    /// Names the first differences, so a failure says where the states part.
    static func explain(_ a: DetectionContents, _ b: DetectionContents) {
        for (account, profile) in a.profiles where b.profiles[account] != profile {
            Issue.record("profile \(account): \(profile) vs \(String(describing: b.profiles[account]))")
            break
        }
        if a.profiles.count != b.profiles.count { Issue.record("profiles: \(a.profiles.count) vs \(b.profiles.count)") }
        for (key, stats) in a.histories where b.histories[key] != stats {
            Issue.record("history \(key): \(stats) vs \(String(describing: b.histories[key]))")
            break
        }
        if a.histories.count != b.histories.count { Issue.record("histories: \(a.histories.count) vs \(b.histories.count)") }
        for (name, keys) in a.windows {
            for (key, entries) in keys where b.windows[name]?[key] != entries {
                Issue.record("window \(name) key \(key): \(entries) vs \(String(describing: b.windows[name]?[key]))")
                break
            }
            if keys.count != b.windows[name]?.count { Issue.record("window \(name): \(keys.count) keys vs \(b.windows[name]?.count ?? 0)") }
        }
    }
}
