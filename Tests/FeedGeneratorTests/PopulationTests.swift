import Foundation
import Testing
import VigilCore

@testable import FeedGenerator

@Suite struct PopulationTests {
    static let configuration = GeneratorConfiguration(count: 30_000, seed: 7, population: .bank)
    static let generator = FeedGenerator(configuration: configuration)
    static let records = Array(generator)

    @Test func theBankMixHasEveryPopulationAndEveryPattern() {
        let populations = Set(Self.records.filter { $0.fraud == nil }.map(\.population))
        #expect(populations == Set(Population.allCases))
        let patterns = Set(Self.records.compactMap(\.fraud?.type))
        #expect(patterns.isSuperset(of: FraudType.imitating), "imitating patterns seen: \(patterns)")
        #expect(patterns.count >= 10)
        // Every record carries its account's population.
        let byAccount = Dictionary(uniqueKeysWithValues: Self.generator.accountPopulations.map { ($0.accountID, $0.population) })
        for record in Self.records where record.fraud == nil {
            #expect(byAccount[record.transaction.accountID] == record.population)
        }
    }

    @Test func businessAccountsMakeHundredsOfTransactionsADay() throws {
        let days =
            try #require(Self.records.last).transaction.timestamp.microsecondsSinceEpoch
            - Self.configuration.start.microsecondsSinceEpoch
        let span = Double(days) / 86_400e6
        var perAccount: [String: Int] = [:]
        for record in Self.records where record.fraud == nil && record.population == .business {
            perAccount[record.transaction.accountID, default: 0] += 1
        }
        #expect(!perAccount.isEmpty)
        let meanPerDay = Double(perAccount.values.reduce(0, +)) / Double(perAccount.count) / span
        #expect(meanPerDay >= 100, "business accounts average \(meanPerDay) transactions a day")
    }

    @Test func familiesShareADeviceAcrossAccounts() {
        var accountsByDevice: [String: Set<String>] = [:]
        for record in Self.records where record.population == .family {
            if let device = record.transaction.deviceID { accountsByDevice[device, default: []].insert(record.transaction.accountID) }
        }
        #expect(accountsByDevice.values.contains { $0.count >= 2 })
    }

    @Test func someNewcomersStartWithALargePurchase() {
        var first: [String: Transaction] = [:]
        for record in Self.records where record.fraud == nil && record.population == .newcomer && first[record.transaction.accountID] == nil {
            first[record.transaction.accountID] = record.transaction
        }
        let large = first.values.filter { $0.amount.minorUnits >= 500 * $0.amount.currency.minorUnitsPerMajor / 2 }
        #expect(first.count >= 10)
        #expect(large.count * 5 >= first.count, "\(large.count) of \(first.count) newcomers start with a large purchase")
    }

    @Test func sameSeedAndMixSameFeed() {
        #expect(Array(FeedGenerator(configuration: Self.configuration).prefix(3_000)) == Array(Self.records.prefix(3_000)))
        var stress = Self.configuration
        stress.population = .stress
        #expect(Array(FeedGenerator(configuration: stress).prefix(200)) != Array(Self.records.prefix(200)))
    }

    @Test func aPopulationFileIsReadAndABadOneNamesWhatIsWrong() throws {
        let folder = FileManager.default.temporaryDirectory
        let good = folder.appendingPathComponent("mix-\(UUID().uuidString).json")
        try Data(#"{"name":"cards","accounts":{"everyday":3,"micro":1},"fraud":{"card_testing_slow":1},"fraud_cases_per_thousand":4}"#.utf8).write(
            to: good)
        defer { try? FileManager.default.removeItem(at: good) }
        let mix = try PopulationMix.load(good.path)
        #expect(mix.name == "cards")
        #expect(mix.accounts == [.everyday: 3, .micro: 1])
        #expect(mix.fraud == [.cardTestingSlow: 1])
        #expect(GeneratorConfiguration(count: 100, population: mix).fraudCasesPerThousand == 4)
        #expect(try PopulationMix.load("bank") == .bank)

        let bad = folder.appendingPathComponent("mix-\(UUID().uuidString).json")
        try Data(#"{"accounts":{"pensioners":1}}"#.utf8).write(to: bad)
        defer { try? FileManager.default.removeItem(at: bad) }
        #expect { try PopulationMix.load(bad.path) } throws: { error in
            "\(error)".contains("pensioners") && "\(error)".contains(bad.path)
        }
        #expect { try PopulationMix.load("/nonexistent/mix.json") } throws: { "\($0)".contains("preset") }
    }

    @Test func theDefaultMixKeepsTheOriginalWorld() {
        let records = Array(FeedGenerator(configuration: GeneratorConfiguration(count: 20_000, seed: 42)))
        #expect(records.allSatisfy { $0.population == .everyday })
        #expect(Set(records.compactMap(\.fraud?.type)).isSubset(of: Set(FraudType.original)))
    }
}
