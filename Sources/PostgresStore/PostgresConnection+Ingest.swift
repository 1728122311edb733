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
                case .accepted(let transaction, let raw):
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
            case .accepted(let tx, let raw):
                guard seen.insert(tx.id).inserted else {
                    outcomes[index] = .duplicate
                    continue
                }
                acceptedIndexes.append((tx.id, index))
                transactions.appendTransactionRow(tx, rawLine: raw)
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
            try ensureTemporaryTable("incoming_transactions") {
                try execute("""
                    CREATE TEMPORARY TABLE IF NOT EXISTS incoming_transactions
                    (LIKE transactions INCLUDING DEFAULTS) ON COMMIT DELETE ROWS
                    """)
            }
            try copyIn("""
                COPY incoming_transactions (id, account_id, card_id, amount_minor, currency, merchant_id, mcc,
                    country, channel, device_id, ip, latitude, longitude, event_time, raw) FROM STDIN
                """, data: transactions.bytes)
            let inserted = try query("""
                INSERT INTO transactions SELECT * FROM incoming_transactions ON CONFLICT (id) DO NOTHING RETURNING id
                """)
            var stored = Set<String>(minimumCapacity: inserted.count)
            for row in inserted { if let id = row.text(0) { stored.insert(id) } }
            for (id, index) in acceptedIndexes where !stored.contains(id) {
                outcomes[index] = .duplicate
            }
        }
        if !rejects.bytes.isEmpty {
            try copyIn("""
                COPY rejected_records (record_id, error_code, message, raw_line, raw_bytes, peer) FROM STDIN
                """, data: rejects.bytes)
        }
        return outcomes
    }

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
        append(encodable: tx.timestamp)
        append(String(decoding: raw, as: UTF8.self))
        endRow()
    }
}
