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
            try await PostgresConnection.withConnection(.fromEnvironment(applicationName: "vigil-seed")) { database in
                try await ReferenceSeeder.seed(reference, into: database)
            }
        } catch let error as PostgresError {
            throw CleanExit.failure("vigil feed seed: \(error)")
        }
        print(
            "seeded \(reference.accounts.count) accounts, \(reference.merchants.count) merchants, \(reference.fxRates.count) FX rates, \(reference.lists.count) lists"
        )
    }
}
