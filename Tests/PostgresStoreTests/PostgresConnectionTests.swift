import Foundation
import PostgresStore
import Testing
import VigilCore
import VigilTesting

@Suite("PostgreSQL connection against a real server")
struct PostgresConnectionTests {
    @Test("every column type we use round-trips")
    func roundTrip() async throws {
        try await TestDatabase.withMigrated { configuration in
            let db = try await PostgresConnection.connect(configuration)
            let at = try #require(RFC3339.parse("2026-11-24T10:15:00.123456Z"))
            let raw = PostgresJSON(#"{"id":"tx-1","note":"tab\tand \"quote\" and ünïcødé"}"#)
            try await db.execute(
                """
                INSERT INTO transactions (id, account_id, card_id, amount_minor, currency, merchant_id, mcc,
                    country, channel, device_id, ip, latitude, longitude, event_time, raw)
                VALUES (\("tx-1"), \("acc-1"), \(nil as String?), \(Int64(9_007_199_254_740_993)), \("KWD"),
                    \("m-1"), \("5411"), \("DE"), \("card_present"), \("dev-1"), \("203.0.113.5"),
                    \(52.52), \(-13.4), \(at), \(raw))
                """)
            let rows = try await db.query(
                """
                SELECT id, card_id, amount_minor, currency, latitude, longitude, event_time, raw->>'note' AS note,
                       raw, true AS yes
                FROM transactions WHERE id = \("tx-1")
                """)
            let row = try #require(rows.first)
            #expect(try row.decode("id", as: String.self) == "tx-1")
            #expect(try row.decodeIfPresent("card_id", as: String.self) == nil)
            #expect(try row.decode("amount_minor", as: Int64.self) == 9_007_199_254_740_993)
            #expect(try row.decode("currency", as: String.self) == "KWD")
            #expect(try row.decode("latitude", as: Double.self) == 52.52)
            #expect(try row.decode("longitude", as: Double.self) == -13.4)
            #expect(try row.decode("event_time", as: Timestamp.self) == at)
            #expect(try row.decode("note", as: String.self) == "tab\tand \"quote\" and ünïcødé")
            #expect(try row.decode("yes", as: Bool.self) == true)

            let bytes = PostgresBytes([0, 1, 0xFE, 0xFF, 0x5C])
            let array = PostgresTextArray(["a", "b,c", "d\"e", "f\\g", ""])
            let echoed = try #require(try await db.query("SELECT \(bytes)::bytea, \(array)::text[], \(Int32(-7))::int4").first)
            #expect(try echoed.decode(0, as: PostgresBytes.self) == bytes)
            #expect(try echoed.decode(1, as: PostgresTextArray.self) == array)
            #expect(try echoed.decode(2, as: Int32.self) == -7)
            #expect(throws: PostgresError.self) { try echoed.decode(0, as: Int.self) }
        }
    }

    @Test("a value can never change the statement: it is a parameter")
    func injectionIsInert() async throws {
        try await TestDatabase.with { configuration in
            let db = try await PostgresConnection.connect(configuration)
            let hostile = "x'); DROP TABLE pg_class; --"
            let row = try #require(try await db.query("SELECT \(hostile)::text AS v").first)
            #expect(try row.decode("v", as: String.self) == hostile)
        }
    }

    @Test("COPY stores a batch of 10,000 rows in one statement")
    func copyBatch() async throws {
        try await TestDatabase.withMigrated { configuration in
            let db = try await PostgresConnection.connect(configuration)
            var encoder = CopyTextEncoder()
            for i in 0..<10_000 {
                encoder.append("tx-\(i)")
                encoder.append("acc-\(i % 97)")
                encoder.append(i % 3 == 0 ? nil : "card\t\(i)\\n")
                encoder.append(Int64(i + 1))
                encoder.append("EUR")
                encoder.append("card_not_present")
                encoder.append("2026-11-24T10:15:00Z")
                encoder.append(#"{"i":\#(i),"s":"line\nbreak"}"#)
                encoder.endRow()
            }
            let copied = try await db.copyIn(
                """
                COPY transactions (id, account_id, card_id, amount_minor, currency, channel, event_time, raw) FROM STDIN
                """, data: encoder.bytes)
            #expect(copied == 10_000)
            let stats = try #require(
                try await db.query(
                    """
                    SELECT count(*), sum(amount_minor), count(card_id),
                           max(card_id) FILTER (WHERE id = 'tx-1'), max(raw->>'s') FILTER (WHERE id = 'tx-5')
                    FROM transactions
                    """
                ).first)
            #expect(try stats.decode(0, as: Int.self) == 10_000)
            #expect(try stats.decode(1, as: Int64.self) == 50_005_000)
            #expect(try stats.decode(2, as: Int.self) == 6_666)
            #expect(try stats.decode(3, as: String.self) == "card\t1\\n")
            #expect(try stats.decode(4, as: String.self) == "line\nbreak")
        }
    }

    @Test("a COPY with a bad row fails as a whole and the connection stays usable")
    func copyFailure() async throws {
        try await TestDatabase.withMigrated { configuration in
            let db = try await PostgresConnection.connect(configuration)
            var encoder = CopyTextEncoder()
            encoder.append("tx-1")
            encoder.append("acc")
            encoder.append(Int64(5))
            encoder.append("EUR")
            encoder.append("teleport")
            encoder.append("2026-11-24T10:15:00Z")
            encoder.append("{}")
            encoder.endRow()
            let error = await #expect(throws: PostgresError.self) {
                try await db.copyIn(
                    "COPY transactions (id, account_id, amount_minor, currency, channel, event_time, raw) FROM STDIN", data: encoder.bytes)
            }
            #expect(error?.sqlState == "23514")
            #expect(try await db.query("SELECT count(*) FROM transactions").first?.decode(0, as: Int.self) == 0)
        }
    }

    @Test("a failed transaction rolls back everything in it")
    func rollback() async throws {
        try await TestDatabase.with { configuration in
            let db = try await PostgresConnection.connect(configuration)
            try await db.execute("CREATE TABLE t (id int PRIMARY KEY)")
            struct Boom: Error {}
            await #expect(throws: Boom.self) {
                try await db.transaction { db in
                    try db.execute("INSERT INTO t VALUES (1)")
                    try db.execute("INSERT INTO t VALUES (2)")
                    throw Boom()
                }
            }
            #expect(try await db.query("SELECT count(*) FROM t").first?.decode(0, as: Int.self) == 0)
            let committed = try await db.transaction { db in try db.execute("INSERT INTO t VALUES (3), (4)") }
            #expect(committed == 2)
            #expect(try await db.query("SELECT count(*) FROM t").first?.decode(0, as: Int.self) == 2)
        }
    }

    @Test("a unique violation is a typed error with SQLSTATE 23505")
    func uniqueViolation() async throws {
        try await TestDatabase.with { configuration in
            let db = try await PostgresConnection.connect(configuration)
            try await db.execute("CREATE TABLE t (id text PRIMARY KEY)")
            try await db.execute("INSERT INTO t VALUES (\("a"))")
            let error = await #expect(throws: PostgresError.self) {
                try await db.execute("INSERT INTO t VALUES (\("a"))")
            }
            #expect(error?.sqlState == "23505")
            #expect(error?.isUniqueViolation == true)
            #expect(error?.code == .server)
            #expect(error?.isConnectionError == false)
            // The connection is still fine after a statement error.
            #expect(try await db.query("SELECT 1").count == 1)
        }
    }

    @Test("prepared statements run by name with parameters")
    func prepared() async throws {
        try await TestDatabase.with { configuration in
            let db = try await PostgresConnection.connect(configuration)
            let statement = try await db.prepare("add", "SELECT $1::bigint + $2::bigint")
            let rows = try await db.query(statement, [PostgresBinding(Int64(40)), PostgresBinding(Int64(2))])
            #expect(try rows.first?.decode(0, as: Int64.self) == 42)
            let nullRows = try await db.query(statement, [.null, PostgresBinding(Int64(2))])
            #expect(try nullRows.first?.decodeIfPresent(0, as: Int64.self) == nil)
        }
    }

    @Test("a terminated backend is reported as a lost connection, and a new one works")
    func brokenConnection() async throws {
        try await TestDatabase.with { configuration in
            let victim = try await PostgresConnection.connect(configuration)
            let killer = try await PostgresConnection.connect(configuration)
            let pid = await victim.backendPID
            try await killer.execute("SELECT pg_terminate_backend(\(pid))")
            let error = await #expect(throws: PostgresError.self) {
                try await victim.query("SELECT 1")
            }
            #expect(error?.isConnectionError == true)
            #expect(await victim.isConnected == false)
            let fresh = try await PostgresConnection.connect(configuration)
            #expect(try await fresh.query("SELECT 1").count == 1)
        }
    }

    @Test("an unreachable server is a clear connection error, not a crash")
    func unreachable() async throws {
        let configuration = PostgresConfiguration(connectionString: "postgresql://127.0.0.1:1/none?connect_timeout=2")
        let error = await #expect(throws: PostgresError.self) {
            _ = try await PostgresConnection.connect(configuration)
        }
        #expect(error?.code == .connectionFailed)
        #expect(error?.description.contains("cannot connect to PostgreSQL at 127.0.0.1:1") == true)
        #expect(error?.description.contains("DATABASE_URL") == true)
    }

    @Test("LISTEN receives a NOTIFY sent from another connection")
    func listenNotify() async throws {
        try await TestDatabase.with { configuration in
            let listener = try await PostgresConnection.connect(configuration)
            let sender = try await PostgresConnection.connect(configuration)
            try await listener.listen(try #require(PostgresIdentifier("vigil_test")))
            try await sender.notify("vigil_test", payload: "accounts")
            var received: [PostgresNotification] = []
            let deadline = ContinuousClock.now + .seconds(10)
            while received.isEmpty && ContinuousClock.now < deadline {
                received += try await listener.waitForNotifications(timeout: .milliseconds(200))
            }
            #expect(received.map(\.channel) == ["vigil_test"])
            #expect(received.first?.payload == "accounts")
        }
    }

    @Test("an ingest batch goes straight in by COPY; a replayed id falls back and is reported as a duplicate")
    func ingestBatchDuplicates() async throws {
        try await TestDatabase.withMigrated { configuration in
            let db = try await PostgresConnection.connect(configuration)
            let at = try #require(RFC3339.parse("2026-11-24T10:15:00Z"))
            let usd = try #require(Currency(code: "USD"))
            func record(_ id: String) -> TransactionRow {
                let tx = Transaction(
                    id: id, timestamp: at, accountID: "acc-1", amount: Money(minorUnits: 1250, currency: usd),
                    channel: .cardPresent)
                // Key order and spacing as sent: the raw line is stored as the exact text.
                return TransactionRow(tx, rawLine: Array(#"{"id": "\#(id)",  "amount":"12.50"}"#.utf8))
            }
            let first = try await db.storeIngestBatch([record("tx-1"), record("tx-2"), record("tx-1")])
            #expect(first == [.stored, .stored, .duplicate])
            // tx-2 is a replay: the direct COPY is refused, the batch falls back and stores tx-3 only.
            let second = try await db.storeIngestBatch([record("tx-3"), record("tx-2"), record("tx-4")])
            #expect(second == [.stored, .duplicate, .stored])
            // The batches after a duplicate take the tolerant path directly, with the same answers.
            let third = try await db.storeIngestBatch([record("tx-4"), record("tx-5")])
            #expect(third == [.duplicate, .stored])
            let rows = try await db.query("SELECT id, raw::text FROM transactions ORDER BY id")
            #expect(try rows.map { try $0.decode(0, as: String.self) } == ["tx-1", "tx-2", "tx-3", "tx-4", "tx-5"])
            #expect(try rows.first?.decode(1, as: String.self) == #"{"id": "tx-1",  "amount":"12.50"}"#)
        }
    }

    @Test("a replayed id restarts the batch's transaction: the `then` work runs in the new one, and a failure after it leaves nothing")
    func replayRestartsTransaction() async throws {
        try await TestDatabase.withMigrated { configuration in
            let db = try await PostgresConnection.connect(configuration)
            _ = try await db.storeIngestBatch([ingestRow("r-1")])
            // r-1 refuses the direct COPY; `then` sees r-2 stored, in the transaction that commits.
            let (outcomes, results) = try await db.storeIngestBatch([ingestRow("r-1"), ingestRow("r-2")]) { db, storedNow, _ in
                let seen = try db.query("SELECT count(*)::bigint FROM transactions").first?.decode(0, as: Int64.self)
                _ = try db.execute("INSERT INTO lists (name, description) VALUES ('restart-probe', 'written by then')")
                return (storedNow, seen)
            }
            #expect(outcomes == [.duplicate, .stored])
            #expect(results.count == 1)
            #expect(results.first?.0 == [1])
            #expect(results.first?.1 == 2)
            #expect(try await db.query("SELECT name FROM lists WHERE name = 'restart-probe'").count == 1)
            // A replay followed by a `then` that fails: neither the new row nor the `then` write is kept.
            struct Refused: Error {}
            await #expect(throws: Refused.self) {
                _ = try await db.storeIngestBatch([ingestRow("r-2"), ingestRow("r-3")]) { db, _, _ in
                    _ = try db.execute("INSERT INTO lists (name, description) VALUES ('restart-probe-2', 'rolled back')")
                    throw Refused()
                }
            }
            #expect(try await db.query("SELECT id FROM transactions WHERE id = 'r-3'").count == 0)
            #expect(try await db.query("SELECT name FROM lists WHERE name = 'restart-probe-2'").count == 0)
            // The connection is usable afterwards, on the direct path or the tolerant one.
            #expect(try await db.storeIngestBatch([ingestRow("r-3"), ingestRow("r-4")]) == [.stored, .stored])
        }
    }

    @Test("an ingest transaction reads its start as it begins: the `then` work sees it equal to now(), on every path, and it is cleared after")
    func ingestTransactionStart() async throws {
        try await TestDatabase.withMigrated { configuration in
            let db = try await PostgresConnection.connect(configuration)
            // Each batch: (what `then` saw as the start, the transaction's own now()).
            func store(_ rows: [TransactionRow], rejected: [RejectedLine] = []) async throws -> (Timestamp?, Timestamp?) {
                let (_, results) = try await db.storeIngestBatch(rows, rejected: rejected) { db, _, _ in
                    (db.transactionStart, try db.query("SELECT now()").first?.decode(0, as: Timestamp.self))
                }
                return try #require(results.first)
            }
            // The direct path (COPY in the query that begins), a replay that restarts the
            // transaction (its start is the new one's), the tolerant path, rejected lines only.
            let rejectedLine = RejectedLine(recordID: nil, errorCode: "bad_json", message: "not JSON", rawLine: Array("{".utf8), peer: "test")
            for rows in [[ingestRow("s-1")], [ingestRow("s-1"), ingestRow("s-2")], [ingestRow("s-3")], []] {
                let (start, now) = try await store(rows, rejected: rows.isEmpty ? [rejectedLine] : [])
                #expect(start != nil)
                #expect(start == now)
            }
            // The rows' received_at is that start too (its default is now()).
            let (start, _) = try await store([ingestRow("s-4")])
            let received = try await db.query("SELECT received_at FROM transactions WHERE id = 's-4'").first?.decode(0, as: Timestamp.self)
            #expect(start == received)
            #expect(await db.transactionStart == nil)
        }
    }

    @Test("a batch with nothing else to write commits in its COPY's query; one that cannot go that way keeps nothing and is told so")
    func storeCommitted() async throws {
        try await TestDatabase.withMigrated { configuration in
            let db = try await PostgresConnection.connect(configuration)
            let other = try await PostgresConnection.connect(configuration)
            func stored() async throws -> [String] {
                try await other.query("SELECT id FROM transactions ORDER BY id").map { try $0.decode(0, as: String.self) }
            }
            // Committed when it returns: another session sees the rows, stamped with the start returned.
            let start = try #require(try await db.storeCommitted([ingestRow("c-1"), ingestRow("c-2")]))
            #expect(try await stored() == ["c-1", "c-2"])
            let received = try await other.query("SELECT DISTINCT received_at FROM transactions").map { try $0.decode(0, as: Timestamp.self) }
            #expect(received == [start])
            #expect(await db.transactionStart == nil)
            // An id stored before, an id twice in the batch, a value the server refuses (the
            // raw line must be JSON): nil, and nothing of the batch kept.
            #expect(try await db.storeCommitted([ingestRow("c-3"), ingestRow("c-1")]) == nil)
            #expect(try await db.storeCommitted([ingestRow("c-4"), ingestRow("c-4")]) == nil)
            #expect(try await stored() == ["c-1", "c-2"])
            // After the replay, batches take the tolerant path for a while (nil at once);
            // `storeIngestBatch` tells the replay from the new record.
            #expect(try await db.storeCommitted([ingestRow("c-5")]) == nil)
            #expect(try await db.storeIngestBatch([ingestRow("c-3"), ingestRow("c-1")]) == [.stored, .duplicate])
            // Once the tolerant batches are spent, the direct way again; a refused value keeps nothing.
            for batch in 0..<10 { _ = try await db.storeIngestBatch([ingestRow("d-\(batch)")]) }
            #expect(try await db.storeCommitted([ingestRow("c-6"), ingestRow("c-7", raw: "{not json")]) == nil)
            #expect(try await db.storeCommitted([ingestRow("c-8")]) != nil)
            #expect(try await stored().filter { $0.hasPrefix("c-") } == ["c-1", "c-2", "c-3", "c-8"])
        }
    }

    @Test("COPY timestamps are written as RFC 3339 UTC with microseconds, like the text form")
    func copyTimestamps() throws {
        let samples: [Int64] = [0, 1, -1, 1_764_064_800_123_456, -62_135_596_800_000_000, 253_402_300_799_999_999, 253_402_300_800_000_000]
        for micros in samples {
            let t = Timestamp(microsecondsSinceEpoch: micros)
            var encoder = CopyTextEncoder()
            encoder.append(t)
            #expect(String(decoding: encoder.bytes, as: UTF8.self) == t.postgresText, "\(micros)")
        }
    }

    @Test("a record PostgreSQL refuses costs only itself: the rest of the batch is stored, it is kept as a rejected line")
    func refusedRecordInBatch() async throws {
        try await TestDatabase.withMigrated { configuration in
            let db = try await PostgresConnection.connect(configuration)
            let at = try #require(RFC3339.parse("2026-11-24T10:15:00Z"))
            let usd = try #require(Currency(code: "USD"))
            func record(_ id: String, merchant: String? = nil) -> TransactionRow {
                let tx = Transaction(
                    id: id, timestamp: at, accountID: "acc-1", amount: Money(minorUnits: 100, currency: usd),
                    merchantID: merchant, channel: .cardPresent)
                return TransactionRow(tx, rawLine: Array(#"{"id":"\#(id)"}"#.utf8))
            }
            // A NUL character cannot be stored in a text column: the direct COPY fails. Each
            // record is then stored on its own, and the work done with it (`then`) sees only
            // that record: its position when it was stored, nothing for the refused one. The
            // batch's own work (here a row a unique key allows once) goes once, last, in a
            // transaction of its own: done with each record, it would refuse ok-2.
            let (outcomes, results) = try await db.storeIngestBatch([record("ok-1"), record("bad-1", merchant: "m\u{0}x"), record("ok-2")]) {
                db, stored, batchWork in
                if batchWork { _ = try db.execute("INSERT INTO lists (name, description) VALUES ('batch-work', 'once')") }
                return (stored, batchWork)
            }
            #expect(results.map(\.0) == [[0], [2], []])
            #expect(results.map(\.1) == [false, false, true])
            #expect(try await db.query("SELECT name FROM lists WHERE name = 'batch-work'").count == 1)
            #expect(outcomes[0] == .stored && outcomes[2] == .stored)
            guard case .refusedByDatabase(let message) = outcomes[1] else {
                Issue.record("expected the database to refuse bad-1: \(outcomes[1])")
                return
            }
            #expect(message.contains("refused"))
            let ids = try await db.query("SELECT id FROM transactions ORDER BY id").map { try $0.decode(0, as: String.self) }
            #expect(ids == ["ok-1", "ok-2"])
            let rejected = try await db.query("SELECT record_id, error_code FROM rejected_records")
            #expect(try rejected.map { try $0.decode(1, as: String.self) } == ["storage_refused"])
            #expect(try rejected.first?.decode(0, as: String.self) == "bad-1")
        }
    }
}

@Suite("A stage's task on its connection's thread")
struct ConnectionTaskExecutorTests {
    @Test("a task that prefers the connection's executor runs on the thread its statements run on")
    func runsOnTheConnectionThread() async throws {
        try await TestDatabase.withMigrated { configuration in
            try await PostgresConnection.withConnection(configuration) { db in
                // The thread the actor's statements run on, seen from inside a transaction.
                let connectionThread = try await db.transaction { _ in currentThread() }
                let (before, after) = try await withTaskExecutorPreference(db.taskExecutor) {
                    let before = currentThread()
                    _ = try await db.query("SELECT 1")
                    return (before, currentThread())
                }
                #expect(before == connectionThread && after == connectionThread)
                // Without the preference the task is on Swift's pool.
                #expect(currentThread() != connectionThread)
            }
        }
    }
}

/// The thread running the caller.
private func currentThread() -> pthread_t { pthread_self() }

/// A card-present 5.00 USD transaction of `acc-1` for the ingest tests, stored with `raw`
/// as its line (by default `{"id":…}`).
private func ingestRow(_ id: String, raw: String? = nil) -> TransactionRow {
    let tx = Transaction(
        id: id, timestamp: RFC3339.parse("2026-11-24T10:15:00Z")!, accountID: "acc-1",
        amount: Money(minorUnits: 500, currency: Currency(code: "USD")!), channel: .cardPresent)
    return TransactionRow(tx, rawLine: Array((raw ?? #"{"id":"\#(id)"}"#).utf8))
}
