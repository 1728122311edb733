import VigilCore

extension FeedDecoder {
    /// Whether a line carrying `transaction`'s members (written as ``FeedEncoder`` or the
    /// ISO 8583 mapping writes them) would decode, at `now`, to an equal transaction.
    ///
    /// Lets a way in that builds the `Transaction` itself (ISO 8583) skip parsing the line it
    /// also wrote for storage. Conservative: it says yes only for the common case, identifiers
    /// of printable ASCII that need no escaping, no `ip` and no location; anything else (and
    /// every record the decoder would refuse) answers no, and the caller decodes the line, so
    /// refusals keep their exact wording.
    public func accepts(_ transaction: Transaction, now: Timestamp) -> Bool {
        guard transaction.ip == nil, transaction.latitude == nil, transaction.longitude == nil else { return false }
        guard isPlainIdentifier(transaction.id), isPlainIdentifier(transaction.accountID) else { return false }
        if let card = transaction.cardID, !isPlainIdentifier(card) { return false }
        if let merchant = transaction.merchantID, !isPlainIdentifier(merchant) { return false }
        if let device = transaction.deviceID, !isPlainIdentifier(device) { return false }
        if let mcc = transaction.mcc {
            guard mcc.utf8.count == 4, mcc.utf8.allSatisfy({ $0 &- UInt8(ascii: "0") < 10 }) else { return false }
        }
        if let country = transaction.country {
            let bytes = country.utf8
            guard bytes.count == 2, let first = bytes.first, let last = bytes.last, ISO3166.isAssigned(first, last) else { return false }
        }
        let units = transaction.amount.minorUnits
        guard units > 0, units / transaction.amount.currency.minorUnitsPerMajor < configuration.maximumMajorUnits else { return false }
        // Years 1970 to 9999: what RFC 3339 text written digit by digit reads back exactly.
        let micros = transaction.timestamp.microsecondsSinceEpoch
        guard micros >= 0, micros < 253_402_300_800_000_000 else { return false }
        let ahead = micros.subtractingReportingOverflow(now.microsecondsSinceEpoch)
        guard !ahead.overflow, ahead.partialValue <= futureSkewMicros else { return false }
        if ahead.partialValue < 0, ahead.partialValue.magnitude > maximumAgeMicros.magnitude { return false }
        return true
    }

    /// 1 to `maximumIDLength` bytes of printable ASCII other than `"` and `\` (written as they are in JSON).
    private func isPlainIdentifier(_ text: String) -> Bool {
        let bytes = text.utf8
        guard !bytes.isEmpty, bytes.count <= configuration.maximumIDLength else { return false }
        return bytes.allSatisfy { $0 >= 0x20 && $0 < 0x7F && $0 != UInt8(ascii: "\"") && $0 != UInt8(ascii: "\\") }
    }
}
