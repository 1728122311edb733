import Detection
import Foundation
import RuleLanguage
import Testing
import VigilCore

@Suite("Enrichment: reference data, profiles and derived fields")
struct EnricherTests {
    let eur = Currency(code: "EUR")!
    let usd = Currency(code: "USD")!

    func tx(
        _ id: String, at seconds: Int64, amount: Int64, currency: Currency? = nil, country: String? = "DE",
        lat: Double? = nil, lon: Double? = nil, device: String? = nil
    ) -> Transaction {
        Transaction(
            id: id, timestamp: Timestamp(secondsSinceEpoch: seconds), accountID: "acc", cardID: "card",
            amount: Money(minorUnits: amount, currency: currency ?? eur), country: country, channel: .cardPresent,
            deviceID: device, latitude: lat, longitude: lon)
    }

    @Test("amount_base converts exactly with the day's rate; an unknown rate leaves it absent")
    func baseAmount() throws {
        let reference = ReferenceSnapshot(fxRates: ["USD": try #require(DecimalValue(parsing: "0.92"))], baseCurrency: "EUR")
        var record = EvaluationRecord(windowCount: 0)
        _ = Enricher.fill(&record, transaction: tx("a", at: 0, amount: 10_000, currency: usd), reference: reference, profile: nil)
        #expect(record[.amountBase] == .decimal(try #require(DecimalValue(parsing: "92.00"))))
        _ = Enricher.fill(&record, transaction: tx("b", at: 0, amount: 10_000, currency: Currency(code: "GBP")), reference: reference, profile: nil)
        #expect(record[.amountBase] == .absent)
    }

    @Test("unknown accounts leave account fields absent; known ones give age and local hour")
    func accountFields() throws {
        var reference = ReferenceSnapshot(baseCurrency: "EUR")
        var record = EvaluationRecord(windowCount: 0)
        _ = Enricher.fill(&record, transaction: tx("a", at: 86_400 * 40, amount: 100), reference: reference, profile: nil)
        #expect(record[.accountAge] == .absent)
        #expect(record[.profileCount] == .int(0))
        reference.accounts["acc"] = AccountInfo(
            openedAt: Timestamp(secondsSinceEpoch: 86_400 * 10), homeCountry: "DE",
            riskTier: "low", timeZone: TimeZone(identifier: "Asia/Tokyo"))
        _ = Enricher.fill(&record, transaction: tx("a", at: 86_400 * 40, amount: 100), reference: reference, profile: nil)
        #expect(record[.accountAge] == .duration(Int64(86_400 * 30) * 1_000_000))
        #expect(record[.accountHomeCountry] == .string("DE"))
        #expect(record[.hourOfDay] == .int(9))  // midnight UTC is 09:00 in Tokyo
    }

    @Test("the profile learns mean, deviation, places and devices; distance and speed come from the last location")
    func profile() throws {
        let reference = ReferenceSnapshot(baseCurrency: "EUR")
        var profile = AccountProfile()
        var record = EvaluationRecord(windowCount: 0)
        for (i, amount) in [1_000, 2_000, 3_000].enumerated() {
            let t = tx("p\(i)", at: Int64(i) * 3_600, amount: Int64(amount), lat: 52.52, lon: 13.40, device: "dev-1")
            let derived = Enricher.fill(&record, transaction: t, reference: reference, profile: profile)
            Enricher.update(&profile, with: t, derived: derived)
        }
        #expect(profile.count == 3)
        #expect(abs(profile.mean - 20) < 1e-9)
        #expect(abs((profile.standardDeviation ?? 0) - 10) < 1e-9)
        // Berlin to New York (~6,385 km) one hour later: impossible travel speed.
        let far = tx("far", at: 3 * 3_600, amount: 500, country: "US", lat: 40.71, lon: -74.01, device: "dev-2")
        _ = Enricher.fill(&record, transaction: far, reference: reference, profile: profile)
        guard case .decimal(let km) = record[.distanceKmFromLast], case .decimal(let speed) = record[.speedKmhFromLast] else {
            Issue.record("distance and speed should be present")
            return
        }
        #expect(km.doubleValue > 6_300 && km.doubleValue < 6_450)
        #expect(speed.doubleValue > 6_000)
        #expect(record[.isNewDevice] == .bool(true))
        #expect(record[.isNewCountry] == .bool(true))
        #expect(record[.profileAvgAmount] == .decimal(try #require(DecimalValue(parsing: "20.00"))))
    }

    @Test("known sets stay bounded")
    func bounded() {
        var profile = AccountProfile()
        for i in 0..<1_000 {
            profile.observe(
                amountBase: nil, country: nil, latitude: nil, longitude: nil, time: Timestamp(secondsSinceEpoch: Int64(i)),
                device: "d\(i)", card: nil, merchant: nil, hour: 0)
        }
        #expect(profile.known.count(.device) == KnownEntities.cap)
        #expect(profile.known.contains(.device, "d999"))
        #expect(profile.known.contains(.device, "d936"))
        #expect(!profile.known.contains(.device, "d935"), "the least recently used are dropped")
        #expect(!profile.known.contains(.card, "d999"), "each kind is its own set")
    }
}
