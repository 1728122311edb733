import ISO8583
import Testing
import VigilCore

/// What `vigil feed send|bench --format iso8583` sends for a transaction, byte for byte
/// (frames recorded from the builder before it wrote fields in place; they must not move:
/// a re-sent record has to give the same correlation key to be answered as a duplicate).
@Suite struct ISO8583RequestBuilderTests {
    @Test("the 0200 built for a transaction is the recorded frame, whatever its channel, card, merchant and currency")
    func recordedFrames() throws {
        let packager = try shippedPackager()
        let at = try #require(RFC3339.parse("2026-03-07T09:05:02.250Z"))
        let usd = try #require(Currency(code: "USD"))
        let jpy = try #require(Currency(code: "JPY"))
        let cases: [(Transaction, String)] = [
            (
                Transaction(
                    id: "tx-000000001", timestamp: at, accountID: "acc-0000077", cardID: "card-0000077-1",
                    amount: Money(minorUnits: 5784, currency: usd), merchantID: "m-009877", mcc: "5411", country: "SG", channel: .cardPresent),
                "0200F238440008E080000000000004000000169919060832266189000000000000005784030709050238884709050203075411051294274600271T0570748m-009877                                             SG84011acc-0000077"
            ),
            (
                Transaction(
                    id: "run-tx-42", timestamp: at.adding(microseconds: 86_400_000_000 * 200), accountID: "acc-1",
                    amount: Money(minorUnits: 123_456_789_012, currency: jpy), channel: .cardNotPresent),
                "0200B238040008808000000000000400000000000012345678901209230905023971260905020923812105800465407T475879639205acc-1"
            ),
            (
                Transaction(
                    id: "x", timestamp: at, accountID: "acc-2", cardID: "c", amount: Money(minorUnits: 1, currency: usd), merchantID: "m",
                    channel: .atm),
                "0200F238040008C08000000000000400000016989399578898418801000000000000000103070905023472710905020307051052740753504T2154840m              84005acc-2"
            ),
            (
                Transaction(
                    id: "y", timestamp: at, accountID: "acc-3", amount: Money(minorUnits: 99, currency: usd), mcc: "6011", channel: .transfer),
                "0200B2384400088080000000000004000000400000000000000099030709050271906009050203076011012052739704928T801521884005acc-3"
            ),
        ]
        for (transaction, expected) in cases {
            let message = ISO8583RequestBuilder.request(for: transaction)
            #expect(String(decoding: try packager.encode(message).dropFirst(2), as: UTF8.self) == expected, "\(transaction.id)")
            // Built in place, its frame decodes to a message that packs to the same frame (fixed
            // fields come back padded, so the messages themselves differ there).
            let frame = try packager.encode(message)
            #expect(try packager.encode(ISO8583Decoder(packager: packager).decode(body: body(frame))) == frame)
        }
    }
}
