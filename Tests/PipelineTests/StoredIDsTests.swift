import Detection
import PostgresStore
import Testing
import VigilCore
import VigilTesting

@Suite("The stored-id check a detection worker makes for every batch")
struct StoredIDsTests {
    @Test("answers which ids are stored, again and again on one connection (its prepared statement), and nothing for no ids")
    func storedIDsOnOneConnection() async throws {
        try await TestDatabase.withMigrated { configuration in
            let db = try await PostgresConnection.connect(configuration)
            let at = try #require(RFC3339.parse("2026-11-24T10:15:00Z"))
            let usd = try #require(Currency(code: "USD"))
            func row(_ id: String) -> TransactionRow {
                let tx = Transaction(
                    id: id, timestamp: at, accountID: "acc-1", amount: Money(minorUnits: 1250, currency: usd), channel: .cardPresent)
                return TransactionRow(tx, rawLine: Array(#"{"n":1}"#.utf8))
            }
            #expect(try await DetectionStore.storedIDs(["tx-1", "tx-2"], on: db).isEmpty)
            _ = try await db.storeIngestBatch([row("tx-1"), row("tx-3")])
            #expect(try await DetectionStore.storedIDs(["tx-1", "tx-2", "tx-3"], on: db) == ["tx-1", "tx-3"])
            // Ids that need quoting in an array literal, and many of them: the same statement.
            let odd = #"tx "4",\{x}"#
            _ = try await db.storeIngestBatch([row(odd)])
            let many = (0..<600).map { "other-\($0)" } + [odd, "tx-2"]
            #expect(try await DetectionStore.storedIDs(many, on: db) == [odd])
            #expect(try await DetectionStore.storedIDs([], on: db).isEmpty)
            await db.close()
        }
    }
}
