import FeedProtocol
import VigilCore

extension Pacs008.CreditTransfer {
    /// The protocol v1 line for this transfer (then validated and stored like any feed line):
    /// the debtor's account is `account_id`, the creditor's account `merchant_id` (whom the
    /// money goes to), the channel `transfer`, the country the creditor IBAN's; the message's
    /// identifiers, agents, purpose and remittance travel in an `iso20022` object, stored in
    /// `transactions.raw`.
    public func feedLine(messageID: String, createdAt: Timestamp) -> [UInt8] {
        var out: [UInt8] = []
        out.reserveCapacity(512)
        out.append(UInt8(ascii: "{"))
        member("id", vigilID, &out, first: true)
        member("timestamp", RFC3339.format(acceptedAt ?? createdAt), &out)
        member("account_id", debtorAccount, &out)
        member("amount", amount.decimalString, &out)
        member("currency", amount.currency.code, &out)
        member("merchant_id", creditorAccount, &out)
        let country = creditorAccount.utf8.prefix(2)
        if ISO3166.isAssigned(country), creditorAccount.utf8.dropFirst(2).prefix(2).allSatisfy({ $0 &- 0x30 < 10 }) {
            member("country", String(decoding: country, as: UTF8.self), &out)
        }
        member("channel", "transfer", &out)
        out.append(contentsOf: Array(",\"iso20022\":{".utf8))
        member("message_id", messageID, &out, first: true)
        member("end_to_end_id", endToEndID, &out)
        let optional: [(String, String?)] = [
            ("transaction_id", transactionID), ("uetr", uetr), ("instruction_id", instructionID), ("debtor_name", debtorName),
            ("debtor_agent", debtorAgent), ("creditor_name", creditorName), ("creditor_agent", creditorAgent), ("purpose", purpose),
            ("remittance", remittance),
        ]
        for (name, value) in optional { if let value { member(name, value, &out) } }
        out.append(contentsOf: Array("}}".utf8))
        return out
    }

    private func member(_ name: String, _ value: String, _ out: inout [UInt8], first: Bool = false) {
        if !first { out.append(UInt8(ascii: ",")) }
        JSONText.appendQuoted(name, to: &out)
        out.append(UInt8(ascii: ":"))
        JSONText.appendQuoted(value, to: &out)
    }
}
