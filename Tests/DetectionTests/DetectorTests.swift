import Detection
import RuleLanguage
import Testing
import VigilCore

/// `detect()` on its own: no PostgreSQL, no pipeline, just values in and a decision out.
@Suite("Detector: one transaction, the partition's memory and the ruleset give a decision")
struct DetectorTests {
    static let rules = """
        window cnp_per_card_10m = count by card_id over 10m where channel == "card_not_present"
        window txn_per_account_1h = count by account_id over 1h

        rule card_burst {
          require card_id
          when window.cnp_per_card_10m >= 3
          severity high
          score 80
          reason "{window.cnp_per_card_10m} CNP charges on {card_id}"
        }

        rule account_burst {
          when window.txn_per_account_1h >= 3
          severity medium
          score 30
          reason "{window.txn_per_account_1h} transactions in an hour"
        }

        rule big_amount_shadow {
          when amount_base >= 500.00
          severity critical
          score 10
          mode shadow
          reason "{amount_base} is large"
        }
        """

    let eur = Currency(code: "EUR")!

    func ruleset() throws -> CompiledRuleset {
        let result = RulesetLoader.compile(sources: [SourceFile(path: "d.rules", text: Self.rules)])
        return try #require(result.ruleset, "\(result.diagnostics)")
    }

    func tx(_ id: String, minute: Int64, amount: Int64 = 1_000) -> Transaction {
        Transaction(
            id: id, timestamp: Timestamp(secondsSinceEpoch: 1_764_000_000 + minute * 60), accountID: "acc-1", cardID: "card-1",
            amount: Money(minorUnits: amount, currency: eur), channel: .cardNotPresent)
    }

    /// The pieces `detect` needs, for `ruleset`, with five minutes of allowed lateness.
    func setUp(_ ruleset: CompiledRuleset) -> (PartitionMemory, DetectionContext) {
        let memory = PartitionMemory(specs: ruleset.windows.filter { $0.key == .accountID })
        let context = DetectionContext(
            ruleset: ruleset, shared: SharedWindows(specs: ruleset.windows.filter { $0.key != .accountID }), history: SharedHistory(),
            reference: ReferenceSnapshot(baseCurrency: "EUR"), allowedLatenessMicroseconds: 300_000_000)
        return (memory, context)
    }

    @Test("windows fill across calls; the alert takes the highest alert-mode severity and caps the score; shadow hits raise nothing")
    func alertFromHits() throws {
        let ruleset = try ruleset()
        var (memory, context) = setUp(ruleset)
        var detector = Detector()
        let first = detector.detect(tx("t-1", minute: 0), memory: &memory, context: context)
        #expect(first.hits.isEmpty && first.alert == nil && first.rulesetVersion == ruleset.version)
        _ = detector.detect(tx("t-2", minute: 1), memory: &memory, context: context)
        let third = detector.detect(tx("t-3", minute: 2, amount: 60_000), memory: &memory, context: context)
        #expect(third.hits.map(\.ruleID) == ["card_burst", "account_burst", "big_amount_shadow"])
        #expect(third.hits.map(\.mode) == [.alert, .alert, .shadow])
        #expect(third.hits.first?.reason == "3 CNP charges on card-1")
        let alert = try #require(third.alert)
        // The shadow rule is critical, but only alert-mode hits name the alert.
        #expect(alert.severity == .high)
        #expect(alert.totalScore == 100)
        #expect(alert.hits.map(\.ruleID) == ["card_burst", "account_burst"])
        #expect(third.profile.count == 3 && memory.profiles["acc-1"]?.count == 3)
        #expect(!third.late)
    }

    @Test("a record dated beyond the allowed lateness is decided without windows and counts in neither windows nor profile")
    func lateRecord() throws {
        let ruleset = try ruleset()
        var (memory, context) = setUp(ruleset)
        var detector = Detector()
        _ = detector.detect(tx("t-1", minute: 30), memory: &memory, context: context)
        _ = detector.detect(tx("t-2", minute: 31), memory: &memory, context: context)
        let late = detector.detect(tx("t-old", minute: 0), memory: &memory, context: context)
        #expect(late.late && late.hits.isEmpty && late.alert == nil)
        #expect(memory.profiles["acc-1"]?.count == 2)
        // Within the lateness it counts.
        let onTime = detector.detect(tx("t-3", minute: 28), memory: &memory, context: context)
        #expect(!onTime.late && memory.profiles["acc-1"]?.count == 3)
    }

    @Test("a partition remembers ids it has seen, so a replay is not decided twice")
    func replayGuard() {
        var memory = PartitionMemory(specs: [])
        let sightings = ["t-1", "t-1", "t-2"].map { memory.firstSighting(of: $0) }
        #expect(sightings == [true, false, true])
    }

    @Test("severity and mode order as their meaning does")
    func vocabulary() {
        #expect(Severity.allCases.sorted() == [.low, .medium, .high, .critical])
        #expect(Severity.critical > .high && Severity.low < .medium)
        #expect(RuleMode.shadow < .alert)
        #expect(AlertRecord(raisedBy: [RuleHitRecord(ruleID: "s", mode: .shadow, severity: .critical, score: 5, reason: "", onError: false)]) == nil)
    }
}
