import Detection
import RuleLanguage
import Testing
import VigilCore

@Suite("Card, device and merchant histories")
struct EntityHistoryTests {
    let eur = Currency(code: "EUR")!
    static let start: Int64 = 1_764_000_000

    func tx(
        _ id: String, minute: Int64, account: String = "acc-1", card: String? = "card-1", device: String? = "dev-1",
        merchant: String? = "m-1", amount: Int64 = 1_000
    ) -> Transaction {
        Transaction(
            id: id, timestamp: Timestamp(secondsSinceEpoch: Self.start + minute * 60), accountID: account, cardID: card,
            amount: Money(minorUnits: amount, currency: eur), merchantID: merchant, channel: .cardNotPresent, deviceID: device)
    }

    @Test("a first-seen entity, and a transaction without one, read count 0 and rate 0 with the rest absent")
    func firstSeenDefaults() {
        let history = SharedHistory()
        var record = EvaluationRecord(windowCount: 0)
        let first = tx("t1", minute: 0, device: nil)
        let amount = DecimalValue(parsing: "10.00")
        Enricher.fillHistory(&record, transaction: first, amountBase: amount, history: history, update: true)
        for field in [Field.cardCount, .deviceCount, .merchantCount] { #expect(record[field] == .int(0)) }
        for field in [Field.cardHourlyRate, .deviceHourlyRate, .merchantHourlyRate] { #expect(record[field] == .decimal(.zero)) }
        for field in [Field.cardFirstSeen, .cardAvgAmount, .cardMaxAmount, .deviceFirstSeen, .merchantAvgAmount] {
            #expect(record[field] == .absent)
        }
        // The second transaction sees the first one's history.
        record.reset()
        Enricher.fillHistory(
            &record, transaction: tx("t2", minute: 30, device: nil), amountBase: DecimalValue(parsing: "30.00"), history: history,
            update: true)
        #expect(record[.cardCount] == .int(1))
        #expect(record[.cardFirstSeen] == .timestamp(Timestamp(secondsSinceEpoch: Self.start).microsecondsSinceEpoch))
        #expect(record[.cardAvgAmount] == .decimal(DecimalValue(parsing: "10.00")!))
        #expect(record[.deviceCount] == .int(0))
        // One transaction half an hour ago, over the one-hour floor of history, decayed for
        // half an hour with the 7-day constant: exp(-1800 / 604800) = 0.997.
        #expect(record[.cardHourlyRate] == .decimal(DecimalValue(parsing: "0.997")!))
        let card = history.stats(EntityKey(.card, "card-1"))
        #expect(card?.count == 2)
        #expect(card.map { abs($0.mean - 20) < 1e-9 } == true)
        #expect(card?.maxAmount == 30)
    }

    @Test("a card's history spans the accounts that use it")
    func spansAccounts() {
        let history = SharedHistory()
        var record = EvaluationRecord(windowCount: 0)
        for (i, account) in ["acc-1", "acc-2", "acc-3"].enumerated() {
            record.reset()
            Enricher.fillHistory(
                &record, transaction: tx("t\(i)", minute: Int64(i), account: account), amountBase: nil, history: history, update: true)
            #expect(record[.cardCount] == .int(Int64(i)))
        }
        // Without a convertible amount the count grows and the amounts stay absent.
        #expect(record[.cardAvgAmount] == .absent)
    }

    @Test("a late record reads the history and leaves it as it was")
    func lateRecordDoesNotCount() throws {
        let result = RulesetLoader.compile(sources: [SourceFile(path: "h.rules", text: "")])
        let ruleset = try #require(result.ruleset, "\(result.diagnostics)")
        var memory = PartitionMemory(specs: [])
        let history = SharedHistory()
        let context = DetectionContext(
            ruleset: ruleset, shared: SharedWindows(specs: []), history: history, reference: ReferenceSnapshot(baseCurrency: "EUR"),
            allowedLatenessMicroseconds: 60_000_000)
        var detector = Detector()
        _ = detector.detect(tx("t1", minute: 100), memory: &memory, context: context)
        let late = detector.detect(tx("t2", minute: 0), memory: &memory, context: context)
        #expect(late.late)
        #expect(late.entities.card == nil && late.entities.device == nil && late.entities.merchant == nil)
        #expect(history.stats(EntityKey(.card, "card-1"))?.count == 1)
        let next = detector.detect(tx("t3", minute: 101), memory: &memory, context: context)
        #expect(next.entities.card?.count == 2)
    }

    @Test("memory is bounded: past the cap the least recently seen are evicted, recently seen ones kept")
    func boundedLeastRecentlySeen() {
        var table = EntityTable(capacity: 64)
        let time = Timestamp(secondsSinceEpoch: Self.start)
        for i in 0..<1_000 {
            _ = table.observe("card-\(i)", time: time, amountBase: 1, update: true)
            _ = table.observe("card-kept", time: time, amountBase: 1, update: true)  // seen all along
        }
        #expect(table.count <= 64)
        #expect(table.count >= 64 - 64 / 8)
        #expect(table.stats("card-kept")?.count == 1_000)
        #expect(table.stats("card-999")?.count == 1)
        #expect(table.stats("card-0") == nil)
        #expect(table.evicted == 1_001 - table.count)
        // An evicted entity that comes back starts again as first seen.
        #expect(table.observe("card-0", time: time, amountBase: 1, update: true).before == nil)

        let shared = SharedHistory(limits: .init(cards: 256, devices: 256, merchants: 256), shardCount: 4)
        for i in 0..<5_000 { _ = shared.observe(EntityKey(.device, "dev-\(i)"), time: time, amountBase: nil, update: true) }
        #expect(shared.count(.device) <= 256)
        #expect(shared.evicted(.device) == 5_000 - shared.count(.device))
    }
}
