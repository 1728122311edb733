import Detection
import PostgresStore
import Testing
import VigilCore
import VigilTesting

/// Rows of one account that differ only by id.
private func rowMaker() throws -> @Sendable (String) -> TransactionRow {
    let at = try #require(RFC3339.parse("2026-11-24T10:15:00Z"))
    let usd = try #require(Currency(code: "USD"))
    return { id in
        let tx = Transaction(id: id, timestamp: at, accountID: "acc-1", amount: Money(minorUnits: 1250, currency: usd), channel: .cardPresent)
        return TransactionRow(tx, rawLine: Array(#"{"n":1}"#.utf8))
    }
}

@Suite("The stored-id check a detection worker makes for every batch")
struct StoredIDsTests {
    @Test("answers which ids are stored, again and again on one connection (its prepared statement), and nothing for no ids")
    func storedIDsOnOneConnection() async throws {
        try await TestDatabase.withMigrated { configuration in
            let db = try await PostgresConnection.connect(configuration)
            let row = try rowMaker()
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

@Suite("The filter of stored ids that spares a new id its lookup")
struct StoredIDFilterTests {
    @Test("before its load every id may be stored; after it every stored id is found, escaped ones too, and few new ones")
    func loadedFromTheTable() async throws {
        try await TestDatabase.withMigrated { configuration in
            let db = try await PostgresConnection.connect(configuration)
            let row = try rowMaker()
            // COPY's text format writes a backslash and a tab escaped: the filter must hash what was stored.
            let escaped = ["tx\\back", "tx\ttab", #"tx "q",{x}"#]
            let stored = (0..<20_000).map { "stored-\($0)" } + escaped
            _ = try await db.storeIngestBatch(stored.map(row))
            let filter = StoredIDFilter()
            let fresh = (0..<20_000).map { "fresh-\($0)" }
            #expect(!filter.isLoaded)
            #expect(filter.mayBeStored(fresh) == fresh)  // not loaded: all of them are looked up
            #expect(try await filter.load(on: db) == stored.count)
            #expect(filter.isLoaded)
            #expect(filter.mayBeStored(stored) == stored)
            let falsePositives = filter.mayBeStored(fresh).count
            #expect(falsePositives < fresh.count / 50, "\(falsePositives) of \(fresh.count) new ids would be looked up")
            // What the writer adds after a commit is found at once.
            filter.add(["later-1"])
            #expect(filter.mayBeStored(["later-1"]) == ["later-1"])
            await db.close()
        }
    }

    @Test("ids added while the load runs are kept, and the filter grows past what it was sized for")
    func grows() async throws {
        try await TestDatabase.withMigrated { configuration in
            let db = try await PostgresConnection.connect(configuration)
            let filter = StoredIDFilter()
            // An empty table: sized for its minimum, then given four times that.
            #expect(try await filter.load(on: db) == 0)
            let many = (0..<300_000).map { "grown-\($0)" }
            filter.add(many)
            #expect(filter.mayBeStored(many).count == many.count)
            let fresh = (0..<20_000).map { "absent-\($0)" }
            #expect(filter.mayBeStored(fresh).count < fresh.count / 20)
            await db.close()
        }
    }
}
