import Foundation
import Pipeline
import PostgresStore
import Testing
import VigilCore
import VigilTesting

/// A pacs.008.001.08 with `count` transfers created a minute ago (ids from `prefix`);
/// transfer 2 (when there is one) has an amount beyond what the feed accepts (10^12 major units).
func pacs008(count: Int, prefix: String) -> String {
    let created = RFC3339.format(Timestamp.now().adding(microseconds: -60_000_000))
    var xml = """
        <?xml version="1.0" encoding="UTF-8"?>
        <Document xmlns="urn:iso:std:iso:20022:tech:xsd:pacs.008.001.08"><FIToFICstmrCdtTrf>
        <GrpHdr><MsgId>\(prefix)-MSG</MsgId><CreDtTm>\(created)</CreDtTm><NbOfTxs>\(count)</NbOfTxs><SttlmInf><SttlmMtd>CLRG</SttlmMtd></SttlmInf></GrpHdr>
        """
    for index in 1...count {
        let amount = index == 2 ? "9999999999999.00" : "\(100 + index).50"
        xml += """
            <CdtTrfTxInf><PmtId><EndToEndId>\(prefix)-E2E-\(index)</EndToEndId><TxId>\(prefix)-TX-\(index)</TxId></PmtId>
            <IntrBkSttlmAmt Ccy="EUR">\(amount)</IntrBkSttlmAmt><ChrgBr>SLEV</ChrgBr>
            <Dbtr><Nm>Debtor \(index)</Nm></Dbtr><DbtrAcct><Id><IBAN>DE89370400440532013000</IBAN></Id></DbtrAcct>
            <DbtrAgt><FinInstnId><BICFI>COBADEFFXXX</BICFI></FinInstnId></DbtrAgt>
            <CdtrAgt><FinInstnId><BICFI>BNPAFRPPXXX</BICFI></FinInstnId></CdtrAgt>
            <Cdtr><Nm>Creditor</Nm></Cdtr><CdtrAcct><Id><IBAN>FR1420041010050500013M02606</IBAN></Id></CdtrAcct>
            <Purp><Cd>SUPP</Cd></Purp><RmtInf><Ustrd>Invoice \(index)</Ustrd></RmtInf></CdtTrfTxInf>
            """
    }
    return xml + "</FIToFICstmrCdtTrf></Document>"
}

@Suite("ISO 20022 credit transfers into the ingest path, real PostgreSQL")
struct ISO20022IntakeTests {
    @Test("each transfer is stored and answered in a pacs.002; a refused one is RJCT; a re-sent message is answered the same")
    func creditTransfers() async throws {
        try await TestDatabase.withMigrated { database in
            try await withVigil(database: database, ruleset: try compileRules(["r.rules": noRules])) { server, _ in
                let body = Array(pacs008(count: 3, prefix: "P1").utf8)
                let response = await server.iso20022.handle(body: body, peer: "test")
                #expect(response.status == 200)
                #expect(response.body.contains("<GrpSts>PART</GrpSts>"))
                #expect(response.body.components(separatedBy: "<TxSts>ACCP</TxSts>").count - 1 == 2)
                #expect(
                    response.body.contains(
                        "<OrgnlTxId>P1-TX-2</OrgnlTxId><TxSts>RJCT</TxSts><StsRsnInf><Rsn><Cd>NARR</Cd></Rsn><AddtlInf>invalid_amount"))
                let again = await server.iso20022.handle(body: body, peer: "test")
                #expect(again.status == 200)
                #expect(again.body.components(separatedBy: "<TxSts>ACCP</TxSts>").count - 1 == 2)

                let bad = await server.iso20022.handle(body: Array("<Document/>".utf8), peer: "test")
                #expect(bad.status == 400)
                #expect(bad.body.contains("wrong_message"))

                let db = try await PostgresConnection.connect(database)
                #expect(try await db.count("SELECT count(*) FROM transactions WHERE channel = 'transfer'") == 2)
                #expect(try await db.count("SELECT count(*) FROM transactions WHERE raw->'iso20022'->>'purpose' = 'SUPP'") == 2)
                #expect(try await db.count("SELECT count(*) FROM rejected_records WHERE record_id = '20022:P1-TX-2'") == 2)
            }
        }
    }
}
