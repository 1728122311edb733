import FeedProtocol
import Testing
import VigilCore

@testable import FeedGenerator

@Suite struct FeedGeneratorTests {
    static let configuration = GeneratorConfiguration(count: 20_000, seed: 42)
    static let records = Array(FeedGenerator(configuration: configuration))

    @Test func sameSeedSameFeedOtherSeedOtherFeed() {
        let again = Array(FeedGenerator(configuration: Self.configuration).prefix(2_000))
        #expect(again == Array(Self.records.prefix(2_000)))
        var other = Self.configuration
        other.seed = 43
        #expect(Array(FeedGenerator(configuration: other).prefix(100)) != Array(Self.records.prefix(100)))
        #expect(Self.records.count == Self.configuration.count)
    }

    @Test func everyLineDecodesToTheSameTransaction() throws {
        let decoder = FeedDecoder(configuration: .init(maximumAge: .seconds(20 * 366 * 86_400)))
        var buffer: [UInt8] = []
        for record in Self.records {
            buffer.removeAll(keepingCapacity: true)
            FeedEncoder.append(record.transaction, to: &buffer, newline: false)
            let decoded = try decoder.decode(buffer, now: record.transaction.timestamp)
            #expect(decoded == record.transaction)
        }
    }

    @Test func timestampsIncreaseAndIDsAreUnique() {
        var previous = Timestamp(microsecondsSinceEpoch: .min)
        var ids = Set<String>()
        for record in Self.records {
            #expect(record.transaction.timestamp >= previous)
            previous = record.transaction.timestamp
            ids.insert(record.transaction.id)
        }
        #expect(ids.count == Self.records.count)
        #expect(Self.records.first.map { $0.transaction.timestamp >= Self.configuration.start } == true)
    }

    @Test func fraudCasesOfEveryTypeReferenceExistingTransactionsAndAccounts() {
        let reference = FeedGenerator(configuration: Self.configuration).referenceData
        let accounts = Set(reference.accounts.map(\.id))
        let merchants = Set(reference.merchants.map(\.id))
        var cases: [String: FraudType] = [:]
        for record in Self.records {
            #expect(accounts.contains(record.transaction.accountID))
            if let m = record.transaction.merchantID { #expect(merchants.contains(m)) }
            if let label = record.fraud { cases[label.caseID] = label.type }
        }
        // The default mix injects the nine original patterns (the imitating ones need the
        // populations they imitate; PopulationTests covers them).
        #expect(Set(cases.values) == Set(FraudType.original), "types seen: \(Set(cases.values))")
        let fraudShare = Double(Self.records.filter { $0.fraud != nil }.count) / Double(Self.records.count)
        #expect(fraudShare > 0.002 && fraudShare < 0.05)
    }

    @Test func accountActivityIsSkewed() {
        var perAccount: [String: Int] = [:]
        for record in Self.records where record.fraud == nil { perAccount[record.transaction.accountID, default: 0] += 1 }
        let counts = perAccount.values.sorted(by: >)
        let total = counts.reduce(0, +)
        let topTenth = counts.prefix(max(1, Self.configuration.accountCount / 10)).reduce(0, +)
        #expect(Double(topTenth) / Double(total) > 0.3, "top 10% share \(Double(topTenth) / Double(total))")
        #expect(Double(counts.first ?? 0) / Double(total) < 0.02)
    }

    @Test func channelsAndCurrenciesAreMixed() {
        let channels = Set(Self.records.map(\.transaction.channel))
        #expect(channels == Set(Channel.allCases))
        let exponents = Set(Self.records.map(\.transaction.amount.currency.exponent))
        #expect(exponents.isSuperset(of: [0, 2, 3]))
    }

    @Test func structuringStaysBelowTheThresholdAndNewAccountsAreNew() throws {
        let reference = FeedGenerator(configuration: Self.configuration).referenceData
        let opened = Dictionary(uniqueKeysWithValues: reference.accounts.map { ($0.id, RFC3339.parse($0.openedAt)) })
        for record in Self.records {
            let tx = record.transaction
            if let opening = opened[tx.accountID] ?? nil { #expect(opening <= tx.timestamp, "\(tx.accountID) transacts before opening") }
            switch record.fraud?.type {
            case .structuring?:
                #expect(tx.channel == .transfer && tx.amount.minorUnits < 10_000 * tx.amount.currency.minorUnitsPerMajor)
            case .newAccountHighValue?:
                let age = tx.timestamp.microsecondsSinceEpoch - (opened[tx.accountID]??.microsecondsSinceEpoch ?? 0)
                #expect(age < 3 * 86_400 * 1_000_000)
            default: break
            }
        }
        #expect(reference.lists.contains { $0.name == "blocked_merchants" && !$0.values.isEmpty })
        #expect(reference.fxRates.contains { $0.currency == "JPY" })
    }
    /// Legitimate customers also spend big now and then (a new customer's laptop, a car paid
    /// by transfer): large amounts alone must not be fraud by construction.
    @Test func legitimateTrafficHasBigTicketSpending() throws {
        let reference = FeedGenerator(configuration: Self.configuration).referenceData
        let opened = Dictionary(uniqueKeysWithValues: reference.accounts.map { ($0.id, RFC3339.parse($0.openedAt)) })
        var bigTransfers = 0
        var youngBigPurchases = 0
        for record in Self.records where record.fraud == nil {
            let tx = record.transaction
            let eur = Double(tx.amount.minorUnits) / Double(tx.amount.currency.minorUnitsPerMajor) * Geography.eurRate(tx.amount.currency.code)
            if tx.channel == .transfer, eur >= 1_500 { bigTransfers += 1 }
            if tx.channel == .cardPresent || tx.channel == .cardNotPresent, eur >= 500,
                let opening = opened[tx.accountID] ?? nil,
                tx.timestamp.microsecondsSinceEpoch - opening.microsecondsSinceEpoch < 30 * 86_400 * 1_000_000
            {
                youngBigPurchases += 1
            }
        }
        #expect(bigTransfers >= 3, "large legitimate transfers: \(bigTransfers)")
        #expect(youngBigPurchases >= 1, "big purchases by young legitimate accounts: \(youngBigPurchases)")
    }
}
