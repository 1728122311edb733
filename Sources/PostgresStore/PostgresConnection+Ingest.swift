import VigilCore

extension PostgresConnection {
    /// Stores a batch in one database transaction: accepted transactions through COPY
    /// into a temporary table and `INSERT ... ON CONFLICT DO NOTHING` (a replayed id is
    /// stored once and reported as a duplicate), rejected lines into `rejected_records`.
    ///
    /// `extra` runs inside the same transaction after the rows are in (the detection
    /// stage writes alerts, hits and outbox rows there), and receives the outcomes.
    ///
    /// When the batch fails for a reason other than the connection (a value the server
    /// refuses), each record is retried on its own so one bad record costs only itself.
    public func storeIngestBatch(
        _ records: [IngestRecord],
        extra: @Sendable (isolated PostgresConnection, [IngestOutcome]) throws -> Void = { _, _ in }
    ) throws -> [IngestOutcome] {
        do {
            return try inTransaction {
                let outcomes = try insertBatch(records)
                try extra(self, outcomes)
                return outcomes
            }
        } catch let error as PostgresError where !error.isConnectionError && records.count > 1 {
            return try storeOneByOne(records, extra: extra)
        }
    }

    private func storeOneByOne(
        _ records: [IngestRecord],
        extra: @Sendable (isolated PostgresConnection, [IngestOutcome]) throws -> Void
    ) throws -> [IngestOutcome] {
        var outcomes: [IngestOutcome] = []
        outcomes.reserveCapacity(records.count)
        for (index, record) in records.enumerated() {
            do {
                let single = try inTransaction {
                    let outcome = try insertBatch([record])
                    // The extra work expects outcomes aligned with the whole batch.
                    var aligned = [IngestOutcome](repeating: .duplicate, count: records.count)
                    aligned[index] = outcome[0]
                    try extra(self, aligned)
                    return outcome[0]
                }
                outcomes.append(single)
            } catch let error as PostgresError where !error.isConnectionError {
                let message = "the database refused the record: \(error.message)"
                let rejected: RejectedLine
                switch record {
                case .accepted(let transaction, let raw, _):
                    rejected = RejectedLine(recordID: transaction.id, errorCode: "storage_refused", message: message, rawLine: raw, peer: nil)
                case .rejected(let line):
                    rejected = RejectedLine(recordID: line.recordID, errorCode: line.errorCode, message: line.message + " (" + message + ")", rawLine: [], peer: line.peer)
                }
                try inTransaction { _ = try insertBatch([.rejected(rejected)]) }
                outcomes.append(.refusedByDatabase(message: message))
            }
        }
        return outcomes
    }

    private func insertBatch(_ records: [IngestRecord]) throws -> [IngestOutcome] {
        var outcomes = [IngestOutcome](repeating: .stored, count: records.count)
        var transactions = CopyTextEncoder(capacity: records.count * 512)
        var rejects = CopyTextEncoder()
        var seen = Set<String>(minimumCapacity: records.count)
        var acceptedIndexes: [(id: String, index: Int)] = []
        for (index, record) in records.enumerated() {
            switch record {
            case .accepted(let tx, let raw, let copyRow):
                guard seen.insert(tx.id).inserted else {
                    outcomes[index] = .duplicate
                    continue
                }
                acceptedIndexes.append((tx.id, index))
                if let copyRow {
                    transactions.appendRows(copyRow)
                } else {
                    transactions.appendTransactionRow(tx, rawLine: raw)
                }
            case .rejected(let line):
                outcomes[index] = .rejectedStored
                rejects.append(line.recordID)
                rejects.append(line.errorCode)
                rejects.append(line.message)
                rejects.append(line.escapedText)
                rejects.append(encodable: line.rawLine.isEmpty ? nil : PostgresBytes(line.rawLine))
                rejects.append(line.peer)
                rejects.endRow()
            }
        }
        if !acceptedIndexes.isEmpty {
            let stored = try copyTransactions(transactions.bytes, count: acceptedIndexes.count)
            if let stored {
                for (id, index) in acceptedIndexes where !stored.contains(id) {
                    outcomes[index] = .duplicate
                }
            }
        }
        if !rejects.bytes.isEmpty {
            try copyIn("""
                COPY rejected_records (record_id, error_code, message, raw_line, raw_bytes, peer) FROM STDIN
                """, data: rejects.bytes)
        }
        return outcomes
    }

    /// Copies the rows into `transactions`; returns the ids stored when some may have
    /// been duplicates, nil when all were stored.
    ///
    /// Replays are rare, so the rows first go straight in with COPY, under a savepoint.
    /// When an id was already stored, the unique index refuses the whole COPY: the
    /// savepoint is rolled back and the rows go through a temporary table and
    /// `INSERT ... ON CONFLICT DO NOTHING`, which stores the new ones and names them.
    /// That way costs about 40 % more, so it is used directly for the next batches
    /// after one met a duplicate (a sender replaying after a crash sends many).
    private func copyTransactions(_ rows: [UInt8], count: Int) throws -> Set<String>? {
        if duplicateStreak == 0 {
            try execute("SAVEPOINT direct_copy")
            do {
                try copyIn("""
                    COPY transactions (id, account_id, card_id, amount_minor, currency, merchant_id, mcc,
                        country, channel, device_id, ip, latitude, longitude, event_time, raw) FROM STDIN
                    """, data: rows)
                try execute("RELEASE SAVEPOINT direct_copy")
                return nil
            } catch let error as PostgresError where error.isUniqueViolation {
                try execute("ROLLBACK TO SAVEPOINT direct_copy")
                duplicateStreak = Self.slowPathBatchesAfterDuplicate
            }
        } else {
            duplicateStreak -= 1
        }
        try ensureTemporaryTable("incoming_transactions") {
            try execute("""
                CREATE TEMPORARY TABLE IF NOT EXISTS incoming_transactions
                (LIKE transactions INCLUDING DEFAULTS) ON COMMIT DELETE ROWS
                """)
        }
        try copyIn("""
            COPY incoming_transactions (id, account_id, card_id, amount_minor, currency, merchant_id, mcc,
                country, channel, device_id, ip, latitude, longitude, event_time, raw) FROM STDIN
            """, data: rows)
        let inserted = try query("""
            INSERT INTO transactions SELECT * FROM incoming_transactions ON CONFLICT (id) DO NOTHING RETURNING id
            """)
        var stored = Set<String>(minimumCapacity: inserted.count)
        for row in inserted { if let id = row.text(0) { stored.insert(id) } }
        if stored.count < count { duplicateStreak = max(duplicateStreak, Self.slowPathBatchesAfterDuplicate) }
        return stored
    }

    /// Batches stored the slower way after one met a duplicate.
    static let slowPathBatchesAfterDuplicate = 8
}

extension CopyTextEncoder {
    /// One row of the columns the writer copies into `transactions` (id, account_id,
    /// card_id, amount_minor, currency, merchant_id, mcc, country, channel, device_id, ip,
    /// latitude, longitude, event_time, raw), in that order, for `tx` and its raw line.
    public mutating func appendTransactionRow(_ tx: Transaction, rawLine raw: [UInt8]) {
        append(tx.id)
        append(tx.accountID)
        append(tx.cardID)
        append(tx.amount.minorUnits)
        append(tx.amount.currency.code)
        append(tx.merchantID)
        append(tx.mcc)
        append(tx.country)
        append(tx.channel.rawValue)
        append(tx.deviceID)
        append(tx.ip)
        append(encodable: tx.latitude)
        append(encodable: tx.longitude)
        append(tx.timestamp)
        raw.withUnsafeBufferPointer { bytes in
            // An accepted line was decoded as JSON, but a byte sequence that is not UTF-8
            // inside a string the decoder skipped would make PostgreSQL refuse the batch:
            // such a line goes through `String`, which replaces it.
            if Self.isASCII(bytes) {
                append(utf8: bytes)
            } else {
                append(String(decoding: bytes, as: UTF8.self))
            }
        }
        endRow()
    }

    private static func isASCII(_ bytes: UnsafeBufferPointer<UInt8>) -> Bool {
        var index = 0
        let count = bytes.count
        let words = count / 8
        if words > 0 {
            let raw = UnsafeRawBufferPointer(bytes)
            for word in 0..<words where raw.loadUnaligned(fromByteOffset: word * 8, as: UInt64.self) & 0x8080_8080_8080_8080 != 0 {
                return false
            }
            index = words * 8
        }
        while index < count {
            if bytes[index] & 0x80 != 0 { return false }
            index += 1
        }
        return true
    }
}
