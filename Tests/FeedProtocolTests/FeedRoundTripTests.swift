import Testing
import VigilCore

@testable import FeedProtocol

@Suite struct FeedRoundTripTests {
    @Test(arguments: ["JPY", "EUR", "KWD", "USD", "CLF"])
    func encodeThenDecodeGivesTheSameTransaction(code: String) throws {
        let currency = try #require(Currency(code: code))
        let tx = Transaction(
            id: "tx-\"ü\"-1", timestamp: Timestamp(microsecondsSinceEpoch: 1_795_000_000_123_456),
            accountID: "acc\\1/\"x\"", cardID: "card-9", amount: Money(minorUnits: 1_234_567, currency: currency),
            merchantID: "Bäckerei 😀", mcc: "5411", country: "DE", channel: .cardNotPresent,
            deviceID: "dev-1", ip: "2001:db8::1", latitude: -33.868820, longitude: 151.209296
        )
        let line = FeedEncoder.line(tx)
        let decoded = try FeedDecoder().decode(Array(line.utf8), now: Timestamp(microsecondsSinceEpoch: 1_795_000_000_000_000))
        #expect(decoded == tx, "\(line)")
    }

    @Test func canonicalFormIsStable() {
        let tx = Transaction(
            id: "tx-1", timestamp: Timestamp(microsecondsSinceEpoch: 0), accountID: "a",
            amount: Money(minorUnits: 5, currency: Currency(code: "KWD")!), channel: .transfer
        )
        #expect(
            FeedEncoder.line(tx)
                == #"{"id":"tx-1","timestamp":"1970-01-01T00:00:00.000000Z","account_id":"a","amount":"0.005","currency":"KWD","channel":"transfer"}"#
        )
    }
}
