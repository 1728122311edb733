import ArgumentParser
import FeedGenerator
import Foundation
import PostgresStore

/// `vigil feed seed`: loads the reference data of a generated feed into PostgreSQL.
struct FeedSeedCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "seed",
        abstract: "Load accounts, merchants, FX rates and lists from FILE.reference.json into PostgreSQL.",
        discussion: "Upserts: running it twice leaves the same data. Connects with DATABASE_URL or the PG* variables."
    )

    @Argument(help: "The reference file written by `vigil feed generate` (FEED.reference.json).")
    var file: String

    func run() async throws {
        guard let data = FileManager.default.contents(atPath: file) else {
            throw CleanExit.failure("vigil feed seed: cannot read \(file)")
        }
        let reference: ReferenceData
        do {
            reference = try JSONDecoder().decode(ReferenceData.self, from: data)
        } catch {
            throw CleanExit.failure("vigil feed seed: \(file) is not a reference-data file: \(error)")
        }
        do {
            let database = try await PostgresConnection.connect(.fromEnvironment(applicationName: "vigil-seed"))
            try await ReferenceSeeder.seed(reference, into: database)
            await database.close()
        } catch let error as PostgresError {
            throw CleanExit.failure("vigil feed seed: \(error)")
        }
        print("seeded \(reference.accounts.count) accounts, \(reference.merchants.count) merchants, \(reference.fxRates.count) FX rates, \(reference.lists.count) lists")
    }
}

/// Writes reference data with upserts in one transaction.
enum ReferenceSeeder {
    static func seed(_ reference: ReferenceData, into database: PostgresConnection) async throws {
        try await database.transaction { db in
            for a in reference.accounts {
                try db.execute("""
                    INSERT INTO accounts (id, opened_at, home_country, risk_tier, timezone)
                    VALUES (\(a.id), \(a.openedAt)::timestamptz, \(a.homeCountry), \(a.riskTier), \(a.timezone))
                    ON CONFLICT (id) DO UPDATE SET opened_at = EXCLUDED.opened_at, home_country = EXCLUDED.home_country,
                        risk_tier = EXCLUDED.risk_tier, timezone = EXCLUDED.timezone, updated_at = now()
                    """)
            }
            for m in reference.merchants {
                try db.execute("""
                    INSERT INTO merchants (id, name, mcc, country, risk_level)
                    VALUES (\(m.id), \(m.name), \(m.mcc), \(m.country), \(m.riskLevel))
                    ON CONFLICT (id) DO UPDATE SET name = EXCLUDED.name, mcc = EXCLUDED.mcc, country = EXCLUDED.country,
                        risk_level = EXCLUDED.risk_level, updated_at = now()
                    """)
            }
            for rate in reference.fxRates {
                try db.execute("""
                    INSERT INTO fx_rates (currency, base_currency, rate) VALUES (\(rate.currency), \(reference.baseCurrency), \(rate.rateToBase)::numeric)
                    ON CONFLICT (currency) DO UPDATE SET base_currency = EXCLUDED.base_currency, rate = EXCLUDED.rate, updated_at = now()
                    """)
            }
            for list in reference.lists {
                try db.execute("""
                    INSERT INTO lists (name, description) VALUES (\(list.name), \(list.kind))
                    ON CONFLICT (name) DO UPDATE SET description = EXCLUDED.description, updated_at = now()
                    """)
                try db.execute("DELETE FROM list_entries WHERE list_name = \(list.name)")
                for value in list.values {
                    try db.execute("INSERT INTO list_entries (list_name, value) VALUES (\(list.name), \(value)) ON CONFLICT DO NOTHING")
                }
            }
        }
    }
}
