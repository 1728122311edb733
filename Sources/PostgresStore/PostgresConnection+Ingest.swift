import VigilCore

extension PostgresConnection {
    /// Stores a batch in one database transaction: transactions through COPY (a replayed
    /// id, stored before or earlier in the batch, is stored once and reported as a
    /// duplicate when its `ContentDigest` matches, as an id conflict and kept in
    /// `rejected_records` when it does not), rejected lines into `rejected_records`.
    ///
    /// `then` runs inside the same transaction after the rows are in (the pipeline writes
    /// alerts, hits and outbox rows there), with the positions in `transactions` of the
    /// ones stored now and whether this transaction carries the batch's own work (what
    /// belongs to none of its rows, such as the pipeline's late evaluations), and returns
    /// what the caller needs after the commit. Returns one outcome per transaction, in
    /// order, and what each database transaction's `then` returned (one result, or one per
    /// transaction after the fallback below).
    ///
    /// When the batch fails for a reason other than the connection (a value the server
    /// refuses), each record is retried on its own so one bad record costs only itself;
    /// the batch's own work then goes once, in a last transaction of its own.
    public func storeIngestBatch<Result: Sendable>(
        _ transactions: [TransactionRow], rejected: [RejectedLine] = [],
        then extra: @Sendable (isolated PostgresConnection, _ storedNow: [Int], _ batchWork: Bool) throws -> Result
    ) throws -> (outcomes: [IngestOutcome], results: [Result]) {
        do {
            return try inTransaction(bodyBegins: true) {
                let outcomes = try insertBatch(transactions, rejected: rejected)
                let result = try extra(self, outcomes.indices.filter { outcomes[$0] == .stored }, true)
                return (outcomes, [result])
            }
        } catch let error as PostgresError where !error.isConnectionError && transactions.count + rejected.count > 1 {
            return try storeOneByOne(transactions, rejected: rejected, extra: extra)
        }
    }

    /// Stores a batch whose database transaction holds its rows and nothing else, with the
    /// fewest round trips: BEGIN, the COPY and COMMIT go as one query, the COPY's rows
    /// after it. Returns the transaction's start time (its `now()`, the rows'
    /// `received_at`) once committed: every row was stored now.
    ///
    /// Returns nil, having kept nothing, when the batch cannot go this way: an id repeated
    /// in it, replays expected after a recent one, an id already stored (the COPY is
    /// refused), or a value the server refuses. `storeIngestBatch` then stores it, telling
    /// replays from conflicts and one bad record from the rest. Throws only when the
    /// connection is lost (whether the COMMIT happened is then unknown, as for any commit).
    public func storeCommitted(_ transactions: [TransactionRow]) throws -> Timestamp? {
        guard duplicateStreak == 0, !transactions.isEmpty else { return nil }
        var ids = Set<String>(minimumCapacity: transactions.count)
        var rows = CopyTextEncoder(capacity: transactions.reduce(0) { $0 + $1.copyRow.count })
        for (index, record) in transactions.enumerated() {
            guard ids.insert(record.transaction.id).inserted else { return nil }
            rows.appendRow(record.copyRow, arrival: index)
        }
        do {
            let (begun, _) = try copyIn(after: Self.beginIngest, Self.copyTransactions + "; COMMIT", data: rows.bytes)
            guard begun.count == 2, let start = try begun[1].first?.decode(0, as: Timestamp.self) else {
                throw PostgresError(code: .server, message: "the transaction began without its start time")
            }
            return start
        } catch let error as PostgresError where !error.isConnectionError {
            // The failed COPY stopped the query before its COMMIT: the transaction is open, aborted.
            try execute("ROLLBACK")
            if error.isUniqueViolation { duplicateStreak = Self.slowPathBatchesAfterDuplicate }
            return nil
        }
    }

    /// Stores a batch with nothing else in its transaction; returns one outcome per transaction.
    public func storeIngestBatch(_ transactions: [TransactionRow], rejected: [RejectedLine] = []) throws -> [IngestOutcome] {
        try storeIngestBatch(transactions, rejected: rejected) { _, _, _ in () }.outcomes
    }

    private func storeOneByOne<Result: Sendable>(
        _ transactions: [TransactionRow], rejected: [RejectedLine],
        extra: @Sendable (isolated PostgresConnection, _ storedNow: [Int], _ batchWork: Bool) throws -> Result
    ) throws -> (outcomes: [IngestOutcome], results: [Result]) {
        var outcomes: [IngestOutcome] = []
        var results: [Result] = []
        outcomes.reserveCapacity(transactions.count)
        for (index, row) in transactions.enumerated() {
            do {
                let (outcome, result) = try inTransaction(bodyBegins: true) {
                    let outcome = try insertBatch([row], rejected: [])[0]
                    return (outcome, try extra(self, outcome == .stored ? [index] : [], false))
                }
                outcomes.append(outcome)
                results.append(result)
            } catch let error as PostgresError where !error.isConnectionError {
                let message = "the database refused the record: \(error.message)"
                let line = RejectedLine(
                    recordID: row.transaction.id, errorCode: "storage_refused", message: message,
                    rawLine: row.rawLine, peer: row.peer)
                try inTransaction(bodyBegins: true) { _ = try insertBatch([], rejected: [line]) }
                outcomes.append(.refusedByDatabase(message: message))
            }
        }
        for line in rejected {
            do {
                try inTransaction(bodyBegins: true) { _ = try insertBatch([], rejected: [line]) }
            } catch let error as PostgresError where !error.isConnectionError {
                // Kept without the bytes the database refused, so the reason is not lost.
                let kept = RejectedLine(
                    recordID: line.recordID, errorCode: line.errorCode,
                    message: line.message + " (the database refused the record: \(error.message))",
                    rawLine: [], peer: line.peer)
                try inTransaction(bodyBegins: true) { _ = try insertBatch([], rejected: [kept]) }
            }
        }
        // The batch's own work, once: in a row's transaction it would be written again with
        // the next row (breaking unique keys, refusing that row), or lost with a refused one.
        results.append(try inTransaction { try extra(self, [], true) })
        return (outcomes, results)
    }

    /// Begins its transaction (in the same query as its first statement, with the
    /// transaction's start time for `transactionStart`): when a replayed id refuses the
    /// COPY, `copyTransactions` rolls the transaction back and begins it again.
    private func insertBatch(_ records: [TransactionRow], rejected: [RejectedLine]) throws -> [IngestOutcome] {
        var outcomes = [IngestOutcome](repeating: .stored, count: records.count)
        var transactions = CopyTextEncoder(capacity: records.reduce(0) { $0 + $1.copyRow.count })
        var rejects = CopyTextEncoder()
        for line in rejected { rejects.appendRejected(line) }
        // The first record of each id goes to COPY; a later one with the same id in this
        // batch is settled against what its id ends up holding.
        var firstOfID = [String: Int](minimumCapacity: records.count)
        var accepted: [(id: String, index: Int, digest: ContentDigest)] = []
        var repeats: [(id: String, index: Int, digest: ContentDigest)] = []
        for (index, record) in records.enumerated() {
            let id = record.transaction.id
            if firstOfID[id] != nil {
                repeats.append((id, index, record.digest))
                continue
            }
            firstOfID[id] = index
            transactions.appendRow(record.copyRow, arrival: index)
            accepted.append((id, index, record.digest))
        }
        if !accepted.isEmpty {
            // The content each id holds once this batch is in: nil when it is a row
            // stored before digests were kept (it cannot be compared).
            var content = [String: ContentDigest?](minimumCapacity: accepted.count)
            let prior = try copyTransactions(transactions.bytes, count: accepted.count)
            for (id, index, digest) in accepted {
                guard let prior, !prior.inserted.contains(id) else {
                    content[id] = digest
                    continue
                }
                let stored = prior.differing[id] ?? digest
                content[id] = stored
                outcomes[index] = Self.outcome(id: id, stored: stored, received: digest)
            }
            for (id, index, digest) in repeats {
                outcomes[index] = Self.outcome(id: id, stored: content[id] ?? nil, received: digest)
            }
            for (index, record) in records.enumerated() {
                guard case .idConflict(let message, let stored, let received) = outcomes[index] else { continue }
                rejects.appendRejected(
                    RejectedLine(
                        recordID: record.transaction.id, errorCode: "id_conflict", message: message,
                        rawLine: record.rawLine, peer: record.peer,
                        storedDigest: stored, receivedDigest: received))
            }
        } else {
            try beginIngestTransaction()
        }
        if !rejects.bytes.isEmpty {
            try copyIn(
                """
                COPY rejected_records (record_id, error_code, message, raw_line, raw_bytes, peer, stored_digest, received_digest)
                FROM STDIN
                """, data: rejects.bytes)
        }
        return outcomes
    }

    /// A record whose id is already stored: a replay when the content is the same (or
    /// cannot be compared: `stored` is nil for rows from before digests), else a conflict.
    private static func outcome(id: String, stored: ContentDigest?, received: ContentDigest) -> IngestOutcome {
        guard let stored, stored != received else { return .duplicate }
        return .idConflict(
            message: "transaction id '\(id)' was already stored with different content; use a new id for a new "
                + "transaction (a replay must carry the same content as the original)",
            stored: stored, received: received
        )
    }

    /// What the slow way learned: the ids stored now, and, of the ids already stored,
    /// those whose stored digest differs from the incoming one (nil: stored without one).
    private struct PriorRows {
        var inserted: Set<String>
        var differing: [String: ContentDigest?]
    }

    /// Copies the rows into `transactions`; returns what was already there when some ids
    /// may have been, nil when all were stored.
    ///
    /// Replays are rare, so the rows first go straight in with COPY. When an id was
    /// already stored, the unique index refuses the whole COPY and aborts the transaction:
    /// it is rolled back and begun again (nothing came before the COPY in it, see
    /// `insertBatch`), and the rows go through a temporary table and `INSERT ... ON
    /// CONFLICT DO NOTHING`, which stores the new ones and names them. That way costs
    /// about 40 % more, so it is used directly for the next batches after one met a
    /// duplicate (a sender replaying after a crash sends many). Restarting the
    /// transaction instead of a savepoint saves two round trips per batch (SAVEPOINT and
    /// RELEASE) and the subtransaction's second transaction id.
    private func copyTransactions(_ rows: [UInt8], count: Int) throws -> PriorRows? {
        if duplicateStreak == 0 {
            do {
                let (begun, _) = try copyIn(after: Self.beginIngest, Self.copyTransactions, data: rows)
                try noteTransactionStart(begun)
                return nil
            } catch let error as PostgresError where error.isUniqueViolation {
                try execute("ROLLBACK")
                try beginIngestTransaction()
                duplicateStreak = Self.slowPathBatchesAfterDuplicate
            }
        } else {
            try beginIngestTransaction()
            duplicateStreak -= 1
        }
        try ensureTemporaryTable("incoming_transactions") {
            try execute(
                """
                CREATE TEMPORARY TABLE IF NOT EXISTS incoming_transactions
                (LIKE transactions INCLUDING DEFAULTS) ON COMMIT DELETE ROWS
                """)
        }
        try copyIn(
            """
            COPY incoming_transactions (id, account_id, card_id, amount_minor, currency, merchant_id, mcc,
                country, channel, device_id, ip, latitude, longitude, event_time, raw, content_digest, feed_session,
                        decision, decision_score, decision_rules, decision_ruleset, decision_degraded, arrival) FROM STDIN
            """, data: rows)
        let inserted = try query(
            """
            INSERT INTO transactions SELECT * FROM incoming_transactions ON CONFLICT (id) DO NOTHING RETURNING id
            """)
        var prior = PriorRows(inserted: Set(minimumCapacity: inserted.count), differing: [:])
        for row in inserted { if let id = row.text(0) { prior.inserted.insert(id) } }
        if prior.inserted.count < count {
            duplicateStreak = max(duplicateStreak, Self.slowPathBatchesAfterDuplicate)
            // The rows stored now match their incoming row; only earlier ones can differ.
            for row in try query(
                """
                SELECT t.id, t.content_digest FROM incoming_transactions i JOIN transactions t ON t.id = i.id
                WHERE t.content_digest IS DISTINCT FROM i.content_digest
                """)
            {
                guard let id = row.text(0) else { continue }
                let stored = try row.decodeIfPresent(1, as: PostgresBytes.self)
                prior.differing[id] = stored.flatMap { ContentDigest(bytes: $0.bytes) }
            }
        }
        return prior
    }

    /// The COPY that stores a batch's rows (`TransactionRow.copyRow` and the arrival).
    private static let copyTransactions = """
        COPY transactions (id, account_id, card_id, amount_minor, currency, merchant_id, mcc,
            country, channel, device_id, ip, latitude, longitude, event_time, raw, content_digest, feed_session,
            decision, decision_score, decision_rules, decision_ruleset, decision_degraded, arrival) FROM STDIN
        """

    /// What begins an ingest transaction, in the query of its first statement: the
    /// transaction's start time is the batch's time (see `transactionStart`).
    private static let beginIngest = "BEGIN; SELECT now(); "

    /// Begins an ingest transaction with a query of its own.
    private func beginIngestTransaction() throws {
        try noteTransactionStart(simpleQuery(Self.beginIngest).results)
    }

    /// Keeps the start time that `beginIngest` read (its second result).
    private func noteTransactionStart(_ begun: [PostgresRows]) throws {
        guard begun.count == 2, let start = try begun[1].first?.decode(0, as: Timestamp.self) else {
            throw PostgresError(code: .server, message: "the transaction began without its start time")
        }
        transactionStart = start
    }

    /// Batches stored the slower way after one met a duplicate.
    static let slowPathBatchesAfterDuplicate = 8
}

extension CopyTextEncoder {
    /// One `rejected_records` row (record_id, error_code, message, raw_line, raw_bytes,
    /// peer, stored_digest, received_digest).
    mutating func appendRejected(_ line: RejectedLine) {
        append(line.recordID)
        append(line.errorCode)
        append(line.message)
        append(line.escapedText)
        append(encodable: line.rawLine.isEmpty ? nil : PostgresBytes(line.rawLine))
        append(line.peer)
        append(line.storedDigest)
        append(line.receivedDigest)
        endRow()
    }
}
