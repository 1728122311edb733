import Detection
import FeedGenerator
import Foundation
import PostgresStore
import RuleLanguage
import Testing
import VigilCore
import VigilTesting

@Suite("Baselines in the account profiles")
struct BaselineTests {
    static let start = Timestamp(secondsSinceEpoch: RFC3339.daysFromCivil(year: 2026, month: 11, day: 1) * 86_400)

    @Test("a new account has rates 0 and no channel amounts, never a division by zero")
    func newAccountDefaults() {
        let p = AccountProfile()
        #expect(p.rates.perHour(at: Self.start, firstSeen: p.firstSeen) == 0)
        #expect(p.rates.perDay(at: Self.start, firstSeen: p.firstSeen) == 0)
        #expect(p.channels.summary(.atm).count == 0)
        #expect(p.channels.summary(.atm).stddev == nil)
        var record = EvaluationRecord(windowCount: 0)
        let tx = Transaction(
            id: "t1", timestamp: Self.start, accountID: "a", amount: Money(minorUnits: 1000, currency: Currency(code: "EUR")!), channel: .atm)
        _ = Enricher.fill(&record, transaction: tx, reference: ReferenceSnapshot(baseCurrency: "EUR"), profile: nil)
        #expect(record[.profileHourlyRate] == .decimal(.zero))
        #expect(record[.profileDailyRate] == .decimal(.zero))
        #expect(record[.profileChannelCount] == .int(0))
        #expect(record[.profileChannelAvgAmount] == .absent)
        #expect(record[.profileFirstSeen] == .absent)
    }

    @Test("rates follow the account's pace and amounts are kept per channel")
    func ratesAndChannels() throws {
        var p = AccountProfile()
        // Two transactions an hour for two days: card payments of 10, one ATM withdrawal of 200.
        for i in 0..<96 {
            let t = Self.start.adding(microseconds: Int64(i) * 1_800_000_000)
            p.observe(
                amountBase: DecimalValue(parsing: "10.00"), country: nil, latitude: nil, longitude: nil, time: t,
                device: nil, card: nil, merchant: nil, hour: 0, channel: .cardPresent)
        }
        p.observe(
            amountBase: DecimalValue(parsing: "200.00"), country: nil, latitude: nil, longitude: nil,
            time: Self.start.adding(microseconds: 96 * 1_800_000_000), device: nil, card: nil, merchant: nil, hour: 0, channel: .atm)
        let now = Self.start.adding(microseconds: 97 * 1_800_000_000)
        let hourly = p.rates.perHour(at: now, firstSeen: p.firstSeen)
        #expect(hourly > 1.8 && hourly < 2.2, "hourly rate \(hourly)")
        let daily = p.rates.perDay(at: now, firstSeen: p.firstSeen)
        #expect(daily > 44 && daily < 52, "daily rate \(daily)")
        #expect(p.channels.summary(.cardPresent).count == 96)
        #expect(abs(p.channels.summary(.cardPresent).mean - 10) < 1e-9)
        #expect(p.channels.summary(.atm).max == 200)
        // An out-of-order record counts, decayed, without moving the rate's clock.
        var late = p
        late.observe(
            amountBase: nil, country: nil, latitude: nil, longitude: nil, time: Self.start, device: nil, card: nil,
            merchant: nil, hour: 0, channel: nil)
        #expect(late.rates.updatedAt == p.rates.updatedAt)
        #expect(late.rates.week > p.rates.week && late.rates.week < p.rates.week + 1)
    }

    @Test("a checkpoint and restart in the middle of a stream give the same baselines as an uninterrupted run")
    func restartGivesSameBaselines() async throws {
        let generator = FeedGenerator(configuration: GeneratorConfiguration(count: 6_000, seed: 17, population: .bank))
        let reference = OfflineEvaluation.snapshot(generator.referenceData)
        let records = Array(generator)
        func replay(_ slice: ArraySlice<GeneratedRecord>, into profiles: inout [String: AccountProfile]) {
            var record = EvaluationRecord(windowCount: 0)
            for r in slice {
                var p = profiles[r.transaction.accountID] ?? AccountProfile()
                let derived = Enricher.fill(&record, transaction: r.transaction, reference: reference, profile: p)
                Enricher.update(&p, with: r.transaction, derived: derived)
                profiles[r.transaction.accountID] = p
            }
        }
        var uninterrupted: [String: AccountProfile] = [:]
        replay(records[...], into: &uninterrupted)
        var firstHalf: [String: AccountProfile] = [:]
        replay(records.prefix(3_000), into: &firstHalf)
        let saved = firstHalf
        let restored = try await TestDatabase.withMigrated { database in
            let db = try await PostgresConnection.connect(database)
            try await db.transaction { db in try DetectionStore.saveProfiles(saved, through: nil, on: db) }
            let loaded = try await DetectionStore.loadProfiles(from: db)
            await db.close()
            return loaded
        }
        #expect(restored == firstHalf, "a checkpointed profile reads back exactly, baselines included")
        var resumed = restored
        replay(records.dropFirst(3_000), into: &resumed)
        #expect(resumed == uninterrupted)
        #expect(uninterrupted.values.contains { $0.rates.week > 10 && $0.channels.summary(.cardNotPresent).count > 5 })
    }

    @Test(
        "a profile saved before migration 0024 (known ids, not fingerprints) loads with the same ids known; saved again it holds fingerprints; ids an older vigil wrote into it since still load as ids"
    )
    func profilesSavedBeforeFingerprints() async throws {
        try await TestDatabase.withMigrated { database in
            try await PostgresConnection.withConnection(database) { db in
                try await db.execute(
                    """
                    INSERT INTO account_profiles (account_id, txn_count, known_devices, known_cards, known_countries, known_merchants)
                    VALUES ('acc-old', 3, '{dev-1,dev-2}', '{card-1}', '{DE}', '{m-1}')
                    """)
                let old = try #require(try await DetectionStore.loadProfiles(from: db)["acc-old"])
                #expect(old.known.contains(.device, "dev-1") && old.known.contains(.device, "dev-2"))
                #expect(old.known.fingerprints(.device) == ["dev-1", "dev-2"].map(KnownEntities.fingerprint), "least recently used first")
                #expect(old.known.contains(.card, "card-1") && old.known.contains(.country, "DE") && old.known.contains(.merchant, "m-1"))
                #expect(!old.known.contains(.device, "card-1"))

                try await db.transaction { db in try DetectionStore.saveProfiles(["acc-old": old], through: nil, on: db) }
                let row = try #require(
                    try await db.query(
                        "SELECT known_fingerprints, known_devices::text FROM account_profiles WHERE account_id = 'acc-old'"
                    ).first)
                #expect(try row.decode(0, as: Bool.self))
                let hex = ["dev-1", "dev-2"].map { id in
                    let digits = String(KnownEntities.fingerprint(id), radix: 16)
                    return String(repeating: "0", count: 16 - digits.count) + digits
                }
                #expect(try row.decode(1, as: String.self) == "{" + hex.joined(separator: ",") + "}")
                #expect(try await DetectionStore.loadProfiles(from: db)["acc-old"] == old, "saved again, it reads back the same")

                // An older vigil leading after the migration writes ids and leaves the flag set.
                try await db.execute(
                    "UPDATE account_profiles SET known_merchants = '{m-1,m-2}', known_cards = '{ffffffffffffffff}' WHERE account_id = 'acc-old'")
                let mixed = try #require(try await DetectionStore.loadProfiles(from: db)["acc-old"])
                #expect(mixed.known.contains(.merchant, "m-1") && mixed.known.contains(.merchant, "m-2"))
                #expect(mixed.known.contains(.card, "ffffffffffffffff"), "16 hex digits above 2^62 are no fingerprint: an id")
                #expect(mixed.known.contains(.device, "dev-1") && mixed.known.contains(.device, "dev-2"), "the fingerprints still load")
            }
        }
    }

    @Test("profiles with baselines, and the card, device and merchant histories, for 1,000,000 accounts fit in 1.5 GiB (bytes per account measured)")
    func bytesPerAccount() throws {
        let generator = FeedGenerator(configuration: GeneratorConfiguration(count: 200_000, seed: 5, accountCount: 20_000, population: .bank))
        let reference = OfflineEvaluation.snapshot(generator.referenceData)
        let before = try residentBytes()
        var profiles: [String: AccountProfile] = [:]
        let history = SharedHistory()
        var record = EvaluationRecord(windowCount: 0)
        for r in generator {
            var p = profiles[r.transaction.accountID] ?? AccountProfile()
            let derived = Enricher.fill(&record, transaction: r.transaction, reference: reference, profile: p)
            Enricher.fillHistory(&record, transaction: r.transaction, amountBase: derived.amountBase, history: history, update: true)
            Enricher.update(&p, with: r.transaction, derived: derived)
            profiles[r.transaction.accountID] = p
        }
        let after = try residentBytes()
        // What the profiles hold, counted: a dictionary slot (key and inline profile, at
        // the table's 3/4 maximum load) plus each known-set's buffer (header, capacity,
        // malloc's 16-byte rounding, and any id too long to be stored inline). RSS growth
        // also depends on what earlier tests in this process freed, so it is printed only.
        let slot = Double(MemoryLayout<String>.stride + MemoryLayout<AccountProfile>.stride) / 0.75
        let heap = profiles.values.reduce(0) { $0 + footprint($1) }
        // The card, device and merchant histories of the same feed, per account.
        let entities = EntityKind.allCases.map { history.count($0) }
        let historyBytes = EntityKind.allCases.reduce(0) { $0 + history.countedBytes($1) }
        let perAccount = slot + Double(heap + historyBytes) / Double(profiles.count)
        let rssPerAccount = Double(max(0, after - before)) / Double(profiles.count)
        let projected = perAccount * 1_000_000 / Double(1 << 30)
        print(
            "profiles: \(profiles.count) accounts and \(entities) cards/devices/merchants, \(Int(Double(historyBytes) / Double(profiles.count))) history bytes per account; \(Int(perAccount)) bytes each counted (\(Int(rssPerAccount)) RSS growth), \(String(format: "%.2f", projected)) GiB for 1,000,000; inline size \(MemoryLayout<AccountProfile>.stride) bytes"
        )
        #expect(profiles.count >= 15_000)
        #expect(perAccount > Double(MemoryLayout<AccountProfile>.stride), "the measurement must see the profiles")
        #expect(projected <= 1.5)
    }

    /// Heap bytes of a profile's known-sets (one array of fingerprints, malloc's 16-byte
    /// rounding and header included).
    func footprint(_ p: AccountProfile) -> Int {
        p.known.heapBytes > 0 ? (p.known.heapBytes + 15) / 16 * 16 + 16 : 0
    }

    /// Resident set size of this process, from /proc/self/statm.
    func residentBytes() throws -> Int {
        let text = try String(contentsOfFile: "/proc/self/statm", encoding: .utf8)
        let fields = text.split(separator: " ")
        guard fields.count > 1, let pages = Int(fields[1]) else {
            throw HarnessError(message: "/proc/self/statm has no resident page count: \(text)")
        }
        return pages * Int(sysconf(Int32(_SC_PAGESIZE)))
    }
}
