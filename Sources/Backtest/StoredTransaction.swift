import PostgresStore
import VigilCore

/// A stored transaction as a replay reads it: the transaction, when it was received and
/// whether the live run judged it late.
struct StoredTransaction: Sendable {
    var transaction: Transaction
    var receivedAt: Timestamp
    var late: Bool

    /// Reads one row of `BacktestSource`'s COPY (the columns in its order).
    init(copyRow bytes: UnsafeBufferPointer<UInt8>) throws {
        var row = CopyTextRow(bytes)
        let id = try row.next() ?? ""
        let event = try row.nextInt64() ?? 0
        let account = try row.next() ?? ""
        let card = try row.next()
        let amount = try row.nextInt64() ?? 0
        let currencyCode = try row.next() ?? ""
        let merchant = try row.next()
        let mcc = try row.next()
        let country = try row.next()
        let channelName = try row.next() ?? ""
        let device = try row.next()
        let ip = try row.next()
        let latitude = try row.nextDouble()
        let longitude = try row.nextDouble()
        let received = try row.nextInt64() ?? 0
        let late = try row.next() == "t"
        guard let currency = Currency(code: Self.unpadded(currencyCode)) else {
            throw BacktestError.unreadableRow(id: id, detail: "currency \(currencyCode) is not known")
        }
        guard let channel = Channel(rawValue: channelName) else {
            throw BacktestError.unreadableRow(id: id, detail: "channel \(channelName) is not known")
        }
        transaction = Transaction(
            id: id, timestamp: Timestamp(microsecondsSinceEpoch: event), accountID: account, cardID: card,
            amount: Money(minorUnits: amount, currency: currency), merchantID: merchant, mcc: mcc,
            country: country.map(Self.unpadded), channel: channel, deviceID: device, ip: ip,
            latitude: latitude, longitude: longitude)
        receivedAt = Timestamp(microsecondsSinceEpoch: received)
        self.late = late
    }

    /// `text` without the blanks a fixed-width column pads it with. Foundation's trimming
    /// bridges to `NSString` on every call (a tenth of a replay's time); codes are rarely
    /// padded, so the common case only looks at the two ends.
    static func unpadded(_ text: String) -> String {
        guard let first = text.utf8.first, let last = text.utf8.last, first == 0x20 || last == 0x20 || first == 0x09 || last == 0x09 else {
            return text
        }
        return text.trimmingCharacters(in: .whitespaces)
    }
}

/// Reads the stored transactions in the order the live pipeline decided them (by arrival
/// batch, then position in the batch; event time for rows stored before arrival was
/// recorded), through the last arrival of a transaction dated before the period's end,
/// with COPY: one sorted statement streamed row by row, so memory stays flat.
enum BacktestSource {
    /// Sets the replay's end for the COPY below (COPY takes no bind parameters, so the
    /// bound travels as a session setting): the arrival of the last transaction dated
    /// before `end`, since everything the pipeline decided until then shaped its state.
    static func prepare(_ db: PostgresConnection, until end: Timestamp) async throws {
        try await db.execute(
            """
            SELECT set_config('vigil.backtest_until', coalesce(
                (SELECT ((extract(epoch FROM max(received_at)) * 1000000)::bigint)::text FROM transactions WHERE event_time < \(end)),
                '0'), false)
            """)
    }

    /// How many rows `stream` will read.
    static func count(_ db: PostgresConnection) async throws -> Int {
        try await db.query(
            """
            SELECT count(*) FROM transactions
            WHERE received_at <= timestamptz 'epoch' + current_setting('vigil.backtest_until')::bigint * interval '1 microsecond'
            """
        ).first?.decode(0) ?? 0
    }

    /// Streams every row to `body` on the connection's thread; returns the row count.
    @discardableResult
    static func stream(_ db: PostgresConnection, _ body: @escaping @Sendable (UnsafeBufferPointer<UInt8>) throws -> Void) async throws -> Int {
        try await db.copyOut(
            """
            COPY (
                SELECT id, (extract(epoch FROM event_time) * 1000000)::bigint, account_id, card_id, amount_minor, currency,
                       merchant_id, mcc, country, channel, device_id, ip, latitude, longitude,
                       (extract(epoch FROM received_at) * 1000000)::bigint, late
                FROM transactions
                WHERE received_at <= timestamptz 'epoch' + current_setting('vigil.backtest_until')::bigint * interval '1 microsecond'
                ORDER BY received_at, arrival, event_time, id
            ) TO STDOUT
            """, row: body)
    }
}
