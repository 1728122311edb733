import FeedProtocol
import VigilCore

/// Builds the `pacs.002.001.10` FI-to-FI payment status report answering a `pacs.008`:
/// one `TxInfAndSts` per credit transfer, `ACCP` or `RJCT` with a reason.
public enum Pacs002 {
    /// The namespace of the version produced.
    public static let namespace = "urn:iso:std:iso:20022:tech:xsd:pacs.002.001.10"

    /// What became of one credit transfer.
    public enum Status: Sendable, Hashable {
        /// Accepted (stored, and allowed).
        case accepted
        /// Rejected: an ISO external status reason code (`FRAD` fraud, `DUPL` duplicate,
        /// `NARR` narrative) and the explanation.
        case rejected(reason: String, information: String)
    }

    /// The status report for `message`; `statuses` are its transfers', in order.
    public static func report(for message: Pacs008, statuses: [Status], messageID: String, createdAt: Timestamp) -> String {
        var xml = #"<?xml version="1.0" encoding="UTF-8"?>"# + "\n"
        xml += "<Document xmlns=\"\(namespace)\"><FIToFIPmtStsRpt>"
        xml += "<GrpHdr><MsgId>\(escape(messageID))</MsgId><CreDtTm>\(RFC3339.format(createdAt))</CreDtTm></GrpHdr>"
        xml += "<OrgnlGrpInfAndSts><OrgnlMsgId>\(escape(message.messageID))</OrgnlMsgId><OrgnlMsgNmId>pacs.008.001.08</OrgnlMsgNmId>"
        let rejected = statuses.filter { if case .rejected = $0 { true } else { false } }.count
        let group = rejected == 0 ? "ACCP" : rejected == statuses.count ? "RJCT" : "PART"
        xml += "<GrpSts>\(group)</GrpSts></OrgnlGrpInfAndSts>"
        for (transfer, status) in zip(message.transfers, statuses) {
            xml += "<TxInfAndSts>"
            if let instruction = transfer.instructionID { xml += "<OrgnlInstrId>\(escape(instruction))</OrgnlInstrId>" }
            xml += "<OrgnlEndToEndId>\(escape(transfer.endToEndID))</OrgnlEndToEndId>"
            if let id = transfer.transactionID { xml += "<OrgnlTxId>\(escape(id))</OrgnlTxId>" }
            if let uetr = transfer.uetr { xml += "<OrgnlUETR>\(escape(uetr))</OrgnlUETR>" }
            switch status {
            case .accepted:
                xml += "<TxSts>ACCP</TxSts>"
            case .rejected(let reason, let information):
                xml += "<TxSts>RJCT</TxSts><StsRsnInf><Rsn><Cd>\(escape(reason))</Cd></Rsn>"
                // AddtlInf is at most 105 characters; longer explanations are cut.
                xml += "<AddtlInf>\(escape(String(information.prefix(105))))</AddtlInf></StsRsnInf>"
            }
            xml += "</TxInfAndSts>"
        }
        xml += "</FIToFIPmtStsRpt></Document>\n"
        return xml
    }

    /// Text as XML character data.
    static func escape(_ text: String) -> String {
        var out = ""
        out.reserveCapacity(text.utf8.count)
        for character in text.unicodeScalars {
            switch character {
            case "&": out += "&amp;"
            case "<": out += "&lt;"
            case ">": out += "&gt;"
            case "\"": out += "&quot;"
            case "'": out += "&apos;"
            default: out.unicodeScalars.append(character)
            }
        }
        return out
    }
}

extension Pacs002.Status {
    /// The status answering a feed reply: a stored transfer is accepted (once acks carry the
    /// decision, a block is `.rejected(reason: "FRAD", …)` here); an id reused for another
    /// transfer is `DUPL`; any other refusal `NARR` with the reason.
    public init(reply: FeedReply) {
        switch reply {
        case .ack(_, _, let decision) where decision?.outcome == .block:
            // Blocked by the rules: refused as suspected fraud (ISO 20022 reason FRAD).
            self = .rejected(reason: "FRAD", information: "blocked by rules " + (decision?.rules.joined(separator: ", ") ?? ""))
        case .ack:
            // Allowed, or held for review (accepted now, investigated after).
            self = .accepted
        case .nack(let rejection):
            switch rejection.code {
            case .idConflict: self = .rejected(reason: "DUPL", information: rejection.message)
            default: self = .rejected(reason: "NARR", information: "\(rejection.code.rawValue): \(rejection.message)")
            }
        }
    }
}
