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

    @Test(
        "reversals: 0 when none or no id; counted once per call, kept by later transactions, created for an unseen entity, set absolutely at a load")
    func reversalCounts() {
        let history = SharedHistory()
        var record = EvaluationRecord(windowCount: 0)
        Enricher.fillHistory(&record, transaction: tx("t1", minute: 0, device: nil), amountBase: nil, history: history, update: true)
        for field in [Field.cardReversals, .deviceReversals, .merchantReversals] { #expect(record[field] == .int(0)) }
        // t1 reversed: its card and merchant (it had no device) count one each.
        history.addReversal(EntityKey(.card, "card-1"))
        history.addReversal(EntityKey(.merchant, "m-1"))
        record.reset()
        Enricher.fillHistory(&record, transaction: tx("t2", minute: 1), amountBase: nil, history: history, update: true)
        #expect(record[.cardReversals] == .int(1))
        #expect(record[.merchantReversals] == .int(1))
        #expect(record[.deviceReversals] == .int(0))
        // Counting a transaction leaves the reversals as they were; a late record reads them.
        #expect(history.stats(EntityKey(.card, "card-1"))?.reversals == 1)
        #expect(history.stats(EntityKey(.card, "card-1"))?.count == 2)
        record.reset()
        Enricher.fillHistory(&record, transaction: tx("late", minute: -90), amountBase: nil, history: history, update: false)
        #expect(record[.cardReversals] == .int(1))
        // A transaction without a card reads 0.
        record.reset()
        Enricher.fillHistory(&record, transaction: tx("t3", minute: 2, card: nil), amountBase: nil, history: history, update: true)
        #expect(record[.cardReversals] == .int(0))
        // An entity the history does not hold (evicted, or only in late records) starts one
        // with no transaction counted, so its first transaction reads like a first-seen one.
        history.addReversal(EntityKey(.device, "dev-9"))
        history.addReversal(EntityKey(.device, "dev-9"))
        let device = history.stats(EntityKey(.device, "dev-9"))
        #expect(device?.reversals == 2)
        #expect(device?.count == 0)
        #expect(device?.firstSeen == nil)
        record.reset()
        Enricher.fillHistory(&record, transaction: tx("t4", minute: 3, device: "dev-9"), amountBase: nil, history: history, update: true)
        #expect(record[.deviceReversals] == .int(2))
        #expect(record[.deviceCount] == .int(0))
        #expect(record[.deviceFirstSeen] == .absent)
        #expect(record[.deviceHourlyRate] == .decimal(.zero))
        #expect(history.stats(EntityKey(.device, "dev-9"))?.count == 1)
        // A load sets the count from the stored rows, whatever was held (idempotent).
        history.setReversals(EntityKey(.card, "card-1"), 3)
        history.setReversals(EntityKey(.card, "card-1"), 3)
        history.setReversals(EntityKey(.card, "card-new"), 1)
        #expect(history.stats(EntityKey(.card, "card-1"))?.reversals == 3)
        #expect(history.stats(EntityKey(.card, "card-1"))?.count == 3, "t1, t2 and t4")
        #expect(history.stats(EntityKey(.card, "card-new"))?.reversals == 1)
        let total: Int64 = history.all().values.reduce(0) { $0 + $1.reversals }
        #expect(total == 7, "card-1 3, m-1 1, dev-9 2, card-new 1")
    }
}
