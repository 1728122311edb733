import Foundation
import SWXMLHash
import VigilCore

/// A `pacs.008.001.08` FI-to-FI customer credit transfer, validated: its group header and
/// its credit transfers, each with what Vigil evaluates.
public struct Pacs008: Sendable, Hashable {
    /// The namespace of the version accepted.
    public static let namespace = "urn:iso:std:iso:20022:tech:xsd:pacs.008.001.08"

    /// `GrpHdr/MsgId`.
    public var messageID: String
    /// `GrpHdr/CreDtTm`.
    public var createdAt: Timestamp
    /// The credit transfers (`CdtTrfTxInf`), in document order.
    public var transfers: [CreditTransfer]

    /// One `CdtTrfTxInf`.
    public struct CreditTransfer: Sendable, Hashable {
        /// `PmtId/EndToEndId` (required by the schema).
        public var endToEndID: String
        /// `PmtId/TxId`, `PmtId/UETR`, `PmtId/InstrId` when present.
        public var transactionID: String?
        public var uetr: String?
        public var instructionID: String?
        /// `IntrBkSttlmAmt` with its `Ccy`.
        public var amount: Money
        /// `AccptncDtTm` when present (else the message's creation time is the event time).
        public var acceptedAt: Timestamp?
        /// `DbtrAcct/Id/IBAN` or `DbtrAcct/Id/Othr/Id`.
        public var debtorAccount: String
        public var debtorName: String?
        /// `DbtrAgt/FinInstnId/BICFI` (or `ClrSysMmbId/MmbId`).
        public var debtorAgent: String?
        /// `CdtrAcct/Id/IBAN` or `CdtrAcct/Id/Othr/Id`.
        public var creditorAccount: String
        public var creditorName: String?
        /// `CdtrAgt/FinInstnId/BICFI` (or `ClrSysMmbId/MmbId`).
        public var creditorAgent: String?
        /// `Purp/Cd` (or `Purp/Prtry`).
        public var purpose: String?
        /// `RmtInf/Ustrd` lines joined by a space (or the structured reference `RmtInf/Strd/CdtrRefInf/Ref`).
        public var remittance: String?

        /// The id Vigil stores it under: `20022:` and the UETR, else the transaction id, else
        /// the end-to-end id (each unique per the scheme's rules); a re-sent message is a duplicate.
        public var vigilID: String { "20022:" + (uetr ?? transactionID ?? endToEndID) }
    }

    /// Parses and validates a document; every problem names its element path.
    public static func parse(_ data: Data) throws(ISO20022Error) -> Pacs008 {
        let root = XMLHash.config { options in
            options.detectParsingErrors = true
        }.parse(data)
        if case .parsingError(let error) = root {
            throw ISO20022Error(code: .notXML, path: "", message: "not well-formed XML at line \(error.line), column \(error.column)")
        }
        guard let document = root.children.first, let element = document.element, XMLPath.local(element.name) == "Document" else {
            throw ISO20022Error(code: .wrongMessage, path: "", message: "the root element must be Document (namespace \(namespace))")
        }
        // The namespace bound to the root's own prefix (none: the default namespace).
        let prefix = element.name.contains(":") ? element.name.split(separator: ":").first.map(String.init) : nil
        let declared = element.attribute(by: prefix.map { "xmlns:\($0)" } ?? "xmlns")?.text
        guard declared == namespace else {
            throw ISO20022Error(
                code: .wrongMessage, path: "Document",
                message:
                    "the namespace is \(declared.map { "\"\($0)\"" } ?? "missing"); this endpoint takes \(namespace) (FI-to-FI customer credit transfer, version 08)"
            )
        }
        let transfer = try XMLPath(document, path: "").required("FIToFICstmrCdtTrf")
        let header = try transfer.required("GrpHdr")
        let messageID = try header.text("MsgId", maxLength: 35)
        let createdAt = try header.timestamp("CreDtTm")
        let declaredCount = try header.text("NbOfTxs", maxLength: 15)
        let transactions = transfer.all("CdtTrfTxInf")
        guard !transactions.isEmpty else {
            throw ISO20022Error(code: .missingElement, path: transfer.path + "/CdtTrfTxInf", message: "at least one credit transfer is required")
        }
        guard Int(declaredCount) == transactions.count else {
            throw ISO20022Error(
                code: .invalidElement, path: header.path + "/NbOfTxs",
                message: "says \(declaredCount) transactions but the message has \(transactions.count)")
        }
        var transfers: [CreditTransfer] = []
        for node in transactions { transfers.append(try creditTransfer(node)) }
        return Pacs008(messageID: messageID, createdAt: createdAt, transfers: transfers)
    }

    private static func creditTransfer(_ node: XMLPath) throws(ISO20022Error) -> CreditTransfer {
        let payment = try node.required("PmtId")
        let amountNode = try node.required("IntrBkSttlmAmt")
        let amountText = amountNode.element?.text.trimmingCharacters(in: .whitespaces) ?? ""
        guard let code = amountNode.element?.attribute(by: "Ccy")?.text else {
            throw ISO20022Error(code: .missingElement, path: amountNode.path + "/@Ccy", message: "the amount's currency attribute Ccy is required")
        }
        guard let currency = Currency(code: code) else {
            throw ISO20022Error(code: .invalidElement, path: amountNode.path + "/@Ccy", message: "\"\(code)\" is not an active ISO 4217 code")
        }
        guard let amount = Money(decimal: amountText, currency: currency), amount.minorUnits > 0 else {
            throw ISO20022Error(
                code: .invalidElement, path: amountNode.path,
                message: "\"\(amountText)\" is not a positive amount with at most \(currency.exponent) fraction digits for \(currency.code)")
        }
        let debtorAccount = try account(node, "DbtrAcct")
        let creditorAccount = try account(node, "CdtrAcct")
        var remittance = node.optional("RmtInf").map { info in info.all("Ustrd").compactMap(\.element?.text).joined(separator: " ") }
        if remittance?.isEmpty ?? false {
            remittance = node.optional("RmtInf")?.optional("Strd")?.optional("CdtrRefInf")?.optional("Ref")?.element?.text
        }
        return CreditTransfer(
            endToEndID: try payment.text("EndToEndId", maxLength: 35),
            transactionID: try payment.optionalText("TxId", maxLength: 35), uetr: try payment.optionalText("UETR", maxLength: 36),
            instructionID: try payment.optionalText("InstrId", maxLength: 35), amount: amount,
            acceptedAt: node.optional("AccptncDtTm") == nil ? nil : try node.timestamp("AccptncDtTm"),
            debtorAccount: debtorAccount, debtorName: node.optional("Dbtr")?.optional("Nm")?.element?.text,
            debtorAgent: agent(node, "DbtrAgt"), creditorAccount: creditorAccount,
            creditorName: node.optional("Cdtr")?.optional("Nm")?.element?.text, creditorAgent: agent(node, "CdtrAgt"),
            purpose: node.optional("Purp").flatMap { $0.optional("Cd") ?? $0.optional("Prtry") }?.element?.text,
            remittance: remittance)
    }

    private static func account(_ node: XMLPath, _ name: String) throws(ISO20022Error) -> String {
        let id = try node.required(name).required("Id")
        if let iban = id.optional("IBAN")?.element?.text, !iban.isEmpty {
            let valid = iban.utf8.count >= 15 && iban.utf8.count <= 34 && iban.utf8.allSatisfy { $0 &- 0x30 < 10 || $0 &- 0x41 < 26 }
            guard valid else {
                throw ISO20022Error(
                    code: .invalidElement, path: id.path + "/IBAN", message: "\"\(iban)\" is not an IBAN (15 to 34 capitals and digits)")
            }
            return iban
        }
        if let other = id.optional("Othr")?.optional("Id")?.element?.text, !other.isEmpty { return other }
        throw ISO20022Error(code: .missingElement, path: id.path, message: "an account is identified by IBAN or Othr/Id")
    }

    private static func agent(_ node: XMLPath, _ name: String) -> String? {
        guard let institution = node.optional(name)?.optional("FinInstnId") else { return nil }
        return institution.optional("BICFI")?.element?.text ?? institution.optional("ClrSysMmbId")?.optional("MmbId")?.element?.text
    }
}
