import FeedProtocol
import Foundation
import ISO20022
import Testing
import VigilCore

/// A realistic pacs.008.001.08 (two SEPA-style transfers between banks, one with a UETR and
/// structured remittance), modelled on the layout of the ISO 20022 message definition report.
let sampleMessage = """
    <?xml version="1.0" encoding="UTF-8"?>
    <Document xmlns="urn:iso:std:iso:20022:tech:xsd:pacs.008.001.08" xmlns:xsi="http://www.w3.org/2001/XMLSchema-instance">
      <FIToFICstmrCdtTrf>
        <GrpHdr>
          <MsgId>BANKDEFF-20261201-000042</MsgId>
          <CreDtTm>2026-12-01T09:30:00Z</CreDtTm>
          <NbOfTxs>2</NbOfTxs>
          <SttlmInf><SttlmMtd>CLRG</SttlmMtd><ClrSys><Cd>ST2</Cd></ClrSys></SttlmInf>
        </GrpHdr>
        <CdtTrfTxInf>
          <PmtId>
            <InstrId>INSTR-1</InstrId>
            <EndToEndId>E2E-INVOICE-2026-118</EndToEndId>
            <TxId>TX-000001</TxId>
            <UETR>9f1c2b6e-8d3a-4f5e-9b1a-2c3d4e5f6a7b</UETR>
          </PmtId>
          <IntrBkSttlmAmt Ccy="EUR">1250.40</IntrBkSttlmAmt>
          <IntrBkSttlmDt>2026-12-01</IntrBkSttlmDt>
          <AccptncDtTm>2026-12-01T09:29:58Z</AccptncDtTm>
          <ChrgBr>SLEV</ChrgBr>
          <Dbtr><Nm>Erika Mustermann</Nm></Dbtr>
          <DbtrAcct><Id><IBAN>DE89370400440532013000</IBAN></Id></DbtrAcct>
          <DbtrAgt><FinInstnId><BICFI>COBADEFFXXX</BICFI></FinInstnId></DbtrAgt>
          <CdtrAgt><FinInstnId><BICFI>BNPAFRPPXXX</BICFI></FinInstnId></CdtrAgt>
          <Cdtr><Nm>Fournitures &amp; Cie</Nm></Cdtr>
          <CdtrAcct><Id><IBAN>FR1420041010050500013M02606</IBAN></Id></CdtrAcct>
          <Purp><Cd>SUPP</Cd></Purp>
          <RmtInf><Strd><CdtrRefInf><Ref>RF18539007547034</Ref></CdtrRefInf></Strd></RmtInf>
        </CdtTrfTxInf>
        <CdtTrfTxInf>
          <PmtId>
            <EndToEndId>E2E-SALARY-11</EndToEndId>
            <TxId>TX-000002</TxId>
          </PmtId>
          <IntrBkSttlmAmt Ccy="EUR">3100.00</IntrBkSttlmAmt>
          <ChrgBr>SLEV</ChrgBr>
          <Dbtr><Nm>Muster GmbH</Nm></Dbtr>
          <DbtrAcct><Id><IBAN>DE02120300000000202051</IBAN></Id></DbtrAcct>
          <DbtrAgt><FinInstnId><BICFI>BYLADEM1001</BICFI></FinInstnId></DbtrAgt>
          <CdtrAgt><FinInstnId><ClrSysMmbId><MmbId>10020030</MmbId></ClrSysMmbId></FinInstnId></CdtrAgt>
          <Cdtr><Nm>Max Mustermann</Nm></Cdtr>
          <CdtrAcct><Id><Othr><Id>0532013000</Id></Othr></Id></CdtrAcct>
          <Purp><Cd>SALA</Cd></Purp>
          <RmtInf><Ustrd>Salary November</Ustrd><Ustrd>2026</Ustrd></RmtInf>
        </CdtTrfTxInf>
      </FIToFICstmrCdtTrf>
    </Document>
    """

@Suite struct Pacs008Tests {
    func parse(_ text: String) throws(ISO20022Error) -> Pacs008 { try Pacs008.parse(Data(text.utf8)) }

    @Test func sampleMessageMapsEachTransfer() throws {
        let message = try parse(sampleMessage)
        #expect(message.messageID == "BANKDEFF-20261201-000042")
        #expect(message.transfers.count == 2)
        let first = message.transfers[0]
        #expect(first.vigilID == "20022:9f1c2b6e-8d3a-4f5e-9b1a-2c3d4e5f6a7b")
        #expect(first.amount.minorUnits == 125_040 && first.amount.currency.code == "EUR")
        #expect(first.debtorAccount == "DE89370400440532013000")
        #expect(first.creditorAgent == "BNPAFRPPXXX")
        #expect(first.creditorName == "Fournitures & Cie")
        #expect(first.remittance == "RF18539007547034")
        #expect(message.transfers[1].vigilID == "20022:TX-000002")
        #expect(message.transfers[1].creditorAccount == "0532013000")
        #expect(message.transfers[1].creditorAgent == "10020030")
        #expect(message.transfers[1].remittance == "Salary November 2026")

        // Each transfer is a feed line the feed's decoder accepts.
        let now = RFC3339.parse("2026-12-01T10:00:00Z") ?? .now()
        let transaction = try FeedDecoder().decode(first.feedLine(messageID: message.messageID, createdAt: message.createdAt), now: now)
        #expect(transaction.channel == .transfer)
        #expect(transaction.accountID == "DE89370400440532013000")
        #expect(transaction.merchantID == "FR1420041010050500013M02606")
        #expect(transaction.country == "FR")
        #expect(transaction.timestamp == RFC3339.parse("2026-12-01T09:29:58Z"))
        let second = try FeedDecoder().decode(
            message.transfers[1].feedLine(messageID: message.messageID, createdAt: message.createdAt), now: now)
        #expect(second.timestamp == message.createdAt)
        #expect(second.country == nil)
        let text = String(decoding: first.feedLine(messageID: message.messageID, createdAt: message.createdAt), as: UTF8.self)
        #expect(text.contains(#""purpose":"SUPP""#))
    }

    @Test func errorsNameTheElement() {
        let cases: [(String, ISO20022Error.Code, String)] = [
            ("<Document", .notXML, ""),
            (sampleMessage.replacingOccurrences(of: "pacs.008.001.08", with: "pacs.008.001.02"), .wrongMessage, "Document"),
            (
                sampleMessage.replacingOccurrences(of: "<NbOfTxs>2</NbOfTxs>", with: "<NbOfTxs>3</NbOfTxs>"), .invalidElement,
                "FIToFICstmrCdtTrf/GrpHdr/NbOfTxs"
            ),
            (
                sampleMessage.replacingOccurrences(of: "Ccy=\"EUR\">3100.00", with: "Ccy=\"EUR\">3100.001"), .invalidElement,
                "FIToFICstmrCdtTrf/CdtTrfTxInf[2]/IntrBkSttlmAmt"
            ),
            (
                sampleMessage.replacingOccurrences(of: "Ccy=\"EUR\">1250.40", with: "Ccy=\"EUX\">1250.40"), .invalidElement,
                "FIToFICstmrCdtTrf/CdtTrfTxInf[1]/IntrBkSttlmAmt/@Ccy"
            ),
            (
                sampleMessage.replacingOccurrences(of: "<EndToEndId>E2E-SALARY-11</EndToEndId>", with: ""), .missingElement,
                "FIToFICstmrCdtTrf/CdtTrfTxInf[2]/PmtId/EndToEndId"
            ),
            (
                sampleMessage.replacingOccurrences(of: "<CreDtTm>2026-12-01T09:30:00Z</CreDtTm>", with: "<CreDtTm>2026-12-01T09:30:00</CreDtTm>"),
                .invalidElement, "FIToFICstmrCdtTrf/GrpHdr/CreDtTm"
            ),
            (
                sampleMessage.replacingOccurrences(of: "DE89370400440532013000", with: "de89"), .invalidElement,
                "FIToFICstmrCdtTrf/CdtTrfTxInf[1]/DbtrAcct/Id/IBAN"
            ),
        ]
        for (text, code, path) in cases {
            do {
                _ = try parse(text)
                Issue.record("accepted: \(path)")
            } catch {
                #expect(error.code == code, "\(error)")
                #expect(error.path == path, "\(error)")
            }
        }
    }

    @Test func statusReportHasOneStatusPerTransfer() throws {
        let message = try parse(sampleMessage)
        let statuses: [Pacs002.Status] = [
            Pacs002.Status(reply: .ack(id: message.transfers[0].vigilID, duplicate: false)),
            Pacs002.Status(reply: .nack(FeedRejection(code: .invalidAmount, recordID: nil, message: "too large & odd"))),
        ]
        let created = RFC3339.parse("2026-12-01T10:00:00Z") ?? .now()
        let xml = Pacs002.report(for: message, statuses: statuses, messageID: "VIGIL-1", createdAt: created)
        #expect(xml.contains("<Document xmlns=\"urn:iso:std:iso:20022:tech:xsd:pacs.002.001.10\">"))
        #expect(xml.contains("<OrgnlMsgId>BANKDEFF-20261201-000042</OrgnlMsgId><OrgnlMsgNmId>pacs.008.001.08</OrgnlMsgNmId><GrpSts>PART</GrpSts>"))
        #expect(
            xml.contains(
                "<TxInfAndSts><OrgnlInstrId>INSTR-1</OrgnlInstrId><OrgnlEndToEndId>E2E-INVOICE-2026-118</OrgnlEndToEndId><OrgnlTxId>TX-000001</OrgnlTxId><OrgnlUETR>9f1c2b6e-8d3a-4f5e-9b1a-2c3d4e5f6a7b</OrgnlUETR><TxSts>ACCP</TxSts></TxInfAndSts>"
            ))
        #expect(xml.contains("<TxSts>RJCT</TxSts><StsRsnInf><Rsn><Cd>NARR</Cd></Rsn><AddtlInf>invalid_amount: too large &amp; odd</AddtlInf>"))
        // The report is well-formed XML (it parses with the same library).
        #expect(throws: ISO20022Error.self) { _ = try parse(xml) }  // not a pacs.008, but XML
        do {
            _ = try parse(xml)
        } catch {
            #expect(error.code == .wrongMessage)
        }
    }

    @Test func blockedTransferIsRejectedAsFraudAndReviewIsAccepted() {
        let blocked = TransactionDecision(outcome: .block, score: 100, rules: ["blocked_merchant"], ruleset: "rs-1")
        let review = TransactionDecision(outcome: .review, score: 40, rules: ["large"], ruleset: "rs-1")
        #expect(
            Pacs002.Status(reply: .ack(id: "t1", duplicate: false, decision: blocked))
                == .rejected(reason: "FRAD", information: "blocked by rules blocked_merchant"))
        #expect(Pacs002.Status(reply: .ack(id: "t2", duplicate: false, decision: review)) == .accepted)
        #expect(Pacs002.Status(reply: .ack(id: "t3", duplicate: true, decision: nil)) == .accepted)
    }
}
