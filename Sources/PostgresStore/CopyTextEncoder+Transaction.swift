import VigilCore

extension CopyTextEncoder {
    /// One row of the columns the writer copies into `transactions` (id, account_id,
    /// card_id, amount_minor, currency, merchant_id, mcc, country, channel, device_id, ip,
    /// latitude, longitude, event_time, raw, content_digest, feed_session, decision,
    /// decision_score, decision_rules, decision_ruleset, decision_degraded), in that order,
    /// for `tx` and its raw line; returns the content digest it computed for the row.
    @discardableResult
    public mutating func appendTransactionRow(
        _ tx: Transaction, rawLine raw: [UInt8], session: Int64? = nil, decision: TransactionDecision? = nil
    ) -> ContentDigest {
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
        let digest = ContentDigest(of: tx)
        append(digest)
        append(session)
        append(decision?.outcome.rawValue)
        append(decision.map { Int64($0.score) })
        append(decision?.rulesJSON)
        append(decision?.ruleset)
        append(decision?.degraded?.rawValue)
        endRow()
        return digest
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
