import Testing
import VigilCore

@testable import FeedProtocol

/// The instant the test feed is "received"; lines are stamped shortly before it.
let testNow = RFC3339.parse("2026-11-24T12:00:00Z") ?? Timestamp(microsecondsSinceEpoch: 0)

let validLine =
    #"{"id":"tx-000001","timestamp":"2026-11-24T10:15:00.123Z","account_id":"acc-1","card_id":"card-9","amount":"125.40","currency":"EUR","merchant_id":"m-55","mcc":"5411","country":"DE","channel":"card_present","device_id":"dev-1","ip":"203.0.113.5","lat":52.52,"lon":13.40}"#

func decode(_ line: String, decoder: FeedDecoder = FeedDecoder()) -> Result<Transaction, FeedRejection> {
    Result { () throws(FeedRejection) -> Transaction in try decoder.decode(Array(line.utf8), now: testNow) }
}

func rejection(_ line: String) -> FeedRejection? {
    if case .failure(let r) = decode(line) { return r }
    return nil
}

/// The valid line with one member replaced (or removed when `value` is nil).
func line(replacing key: String, with value: String?) -> String {
    var members: [(String, String)] = [
        ("id", #""tx-000001""#), ("timestamp", #""2026-11-24T10:15:00.123Z""#), ("account_id", #""acc-1""#),
        ("card_id", #""card-9""#), ("amount", #""125.40""#), ("currency", #""EUR""#), ("merchant_id", #""m-55""#),
        ("mcc", #""5411""#), ("country", #""DE""#), ("channel", #""card_present""#), ("device_id", #""dev-1""#),
        ("ip", #""203.0.113.5""#), ("lat", "52.52"), ("lon", "13.40"),
    ]
    if let i = members.firstIndex(where: { $0.0 == key }) {
        if let value { members[i].1 = value } else { members.remove(at: i) }
    } else if let value {
        members.append((key, value))
    }
    return "{" + members.map { "\"\($0.0)\":\($0.1)" }.joined(separator: ",") + "}"
}

@Suite struct FeedDecoderTests {
    @Test func decodesTheDesignExample() throws {
        let tx = try decode(validLine).get()
        #expect(tx.id == "tx-000001")
        #expect(tx.timestamp == RFC3339.parse("2026-11-24T10:15:00.123Z"))
        #expect(tx.accountID == "acc-1")
        #expect(tx.cardID == "card-9")
        #expect(tx.amount == Money(minorUnits: 12540, currency: Currency(code: "EUR")!))
        #expect(tx.merchantID == "m-55")
        #expect(tx.mcc == "5411")
        #expect(tx.country == "DE")
        #expect(tx.channel == .cardPresent)
        #expect(tx.deviceID == "dev-1")
        #expect(tx.ip == "203.0.113.5")
        #expect(tx.latitude == 52.52)
        #expect(tx.longitude == 13.40)
    }

    @Test func optionalFieldsMayBeAbsentOrNull() throws {
        let tx = try decode(
            #"{"id":"a","timestamp":"2026-11-24T10:15:00Z","account_id":"b","amount":"1","currency":"JPY","channel":"transfer","card_id":null,"lat":null,"lon":null}"#
        ).get()
        #expect(tx.cardID == nil && tx.latitude == nil && tx.mcc == nil)
        #expect(tx.amount.minorUnits == 1)
    }

    @Test(arguments: [
        ("JPY", "1500", Int64(1500), true), ("JPY", "1500.5", 0, false), ("JPY", "1500.0", 0, false),
        ("EUR", "125.4", 12540, true), ("EUR", "125.40", 12540, true), ("EUR", "125", 12500, true),
        ("EUR", "125.401", 0, false), ("KWD", "1.234", 1234, true), ("KWD", "1.2345", 0, false),
        ("KWD", "7", 7000, true),
    ])
    func currencyExponents(currency: String, amount: String, minor: Int64, ok: Bool) {
        let result = decode(line(replacing: "amount", with: "\"\(amount)\"").replacingEUR(with: currency))
        switch result {
        case .success(let tx):
            #expect(ok)
            #expect(tx.amount.minorUnits == minor)
            #expect(tx.amount.currency.code == currency)
        case .failure(let r):
            #expect(!ok)
            #expect(r.code == .invalidAmount && r.field == "amount" && r.recordID == "tx-000001")
            #expect(r.message.contains(currency))
        }
    }

    @Test(
        arguments: [
            // (member, replacement or nil to remove, expected code)
            ("id", nil, FeedRejection.Code.missingField), ("timestamp", nil, .missingField),
            ("account_id", nil, .missingField), ("amount", nil, .missingField), ("currency", nil, .missingField),
            ("channel", nil, .missingField), ("amount", "null", .missingField),
            ("id", "42", .invalidFieldType), ("account_id", "true", .invalidFieldType), ("amount", "125.40", .invalidFieldType),
            ("currency", "[]", .invalidFieldType), ("lat", #""52.5""#, .invalidFieldType), ("card_id", "{}", .invalidFieldType),
            ("id", #""""#, .invalidID), ("account_id", #""a\u0000b""#, .invalidID),
            ("card_id", "\"\(String(repeating: "x", count: 129))\"", .invalidID),
            ("amount", #""-5.00""#, .invalidAmount), ("amount", #""0.00""#, .invalidAmount), ("amount", #""1e3""#, .invalidAmount),
            ("amount", #"" 12""#, .invalidAmount), ("amount", #""12.""#, .invalidAmount), ("amount", #"".5""#, .invalidAmount),
            ("amount", #""99999999999999999999""#, .invalidAmount), ("amount", #""+5""#, .invalidAmount), ("amount", #""""#, .invalidAmount),
            ("currency", #""EUX""#, .invalidCurrency), ("currency", #""eur""#, .invalidCurrency), ("currency", #""EURO""#, .invalidCurrency),
            ("timestamp", #""yesterday""#, .invalidTimestamp), ("timestamp", #""2026-02-30T00:00:00Z""#, .invalidTimestamp),
            ("timestamp", #""2026-11-26T10:00:00Z""#, .invalidTimestamp), ("timestamp", #""2010-01-01T00:00:00Z""#, .invalidTimestamp),
            ("timestamp", #""2026-11-24 10:15:00""#, .invalidTimestamp),
            ("channel", #""pos""#, .unknownChannel), ("channel", #""ATM""#, .unknownChannel),
            ("country", #""ZZ""#, .invalidCountry), ("country", #""de""#, .invalidCountry), ("country", #""DEU""#, .invalidCountry),
            ("mcc", #""541""#, .invalidMCC), ("mcc", #""54a1""#, .invalidMCC), ("mcc", "5411", .invalidFieldType),
            ("lat", "91", .invalidLocation), ("lon", "-180.5", .invalidLocation), ("lon", nil, .invalidLocation),
            ("lat", "1e400", .invalidLocation),
            ("ip", #""300.1.1.1""#, .invalidIP), ("ip", #""1.2.3""#, .invalidIP), ("ip", #""::1::2""#, .invalidIP),
            ("ip", #""10.0.0.1/8""#, .invalidIP), ("ip", #""01.2.3.4""#, .invalidIP),
        ] as [(String, String?, FeedRejection.Code)])
    func eachErrorClassNamesItsField(member: String, value: String?, code: FeedRejection.Code) throws {
        let r = try #require(rejection(line(replacing: member, with: value)))
        #expect(r.code == code, "\(member)=\(value ?? "<absent>"): \(r)")
        #expect(r.field == member)
        #expect(r.message.contains("\"\(member)\""), "message should name the field: \(r.message)")
        #expect(r.recordID == (member == "id" ? nil : "tx-000001"))
    }

    @Test func acceptsValidIPs() throws {
        for ip in [
            "0.0.0.0", "255.255.255.255", "::", "::1", "2001:db8::1", "fe80::1:2:3:4", "1:2:3:4:5:6:7:8", "::ffff:192.0.2.1",
            "2001:DB8:0:0:8:800:200C:417A",
        ] {
            #expect((try? decode(line(replacing: "ip", with: "\"\(ip)\"")).get()) != nil, "\(ip)")
        }
        for ip in ["1:2:3:4:5:6:7:8:9", ":1", "1:", "1::2::3", "12345::", "fe80::1%eth0", "1.2.3.4.5", "", "g::"] {
            #expect(rejection(line(replacing: "ip", with: "\"\(ip)\""))?.code == .invalidIP, "\(ip)")
        }
    }

    @Test func timestampBoundsAreConfigurable() throws {
        let old = line(replacing: "timestamp", with: #""2010-01-01T00:00:00Z""#)
        let lenient = FeedDecoder(configuration: .init(maximumAge: .seconds(20 * 366 * 86_400)))
        #expect((try? decode(old, decoder: lenient).get()) != nil)
        let strict = FeedDecoder(configuration: .init(maximumFutureSkew: .seconds(60)))
        #expect(rejection(line(replacing: "timestamp", with: #""2026-11-24T12:05:00Z""#)) == nil)
        #expect((try? decode(line(replacing: "timestamp", with: #""2026-11-24T12:05:00Z""#), decoder: strict).get()) == nil)
    }

    @Test func syntaxErrorsAreInvalidJSONAndKeepAnEarlierID() throws {
        for bad in [
            "", "   ", "[]", "\"x\"", "{", "{\"id\":\"tx-1\"", "{\"id\":\"tx-1\",}", "{\"id\" \"tx-1\"}",
            "{\"id\":\"tx-1\"} x", "{\"id\":tx}", "{\"id\":\"tx-1\",\"a\":01}", "{\"id\":\"tx-1\",\"a\":1.}",
            "{\"id\":\"tx-1\",\"a\":\"\\x\"}", "{\"id\":\"tx-1\",\"a\":\"\\ud800\"}", "{\"id\":\"tx-1\",\"a\":\"\\udc00\\ud800\"}",
            "{\"id\":\"tx-1\",\"a\":\"tab\there\"}", "{\"id\":\"tx-1\",\"a\":[1,]}", "{\"id\":\"tx-1\",\"a\":{\"b\"}}",
            "{\"id\":\"tx-1\",\"a\":nul}",
        ] {
            let r = try #require(rejection(bad), "\(bad)")
            #expect(r.code == .invalidJSON, "\(bad): \(r)")
            if bad.hasPrefix("{\"id\":\"tx-1\",") { #expect(r.recordID == "tx-1", "\(bad)") }
        }
    }

    @Test func invalidUTF8IsReportedAsSuch() throws {
        let prefix = Array(#"{"id":"tx-1","account_id":"acc-"#.utf8)
        for bad: [UInt8] in [[0xFF], [0xC0, 0x80], [0xED, 0xA0, 0x80], [0xF4, 0x90, 0x80, 0x80], [0xE2, 0x82], [0x80]] {
            let bytes = prefix + bad + Array(#"","amount":"1"}"#.utf8)
            let result = Result { () throws(FeedRejection) -> Transaction in try FeedDecoder().decode(bytes, now: testNow) }
            guard case .failure(let r) = result else {
                Issue.record("accepted \(bad)")
                continue
            }
            #expect(r.code == .invalidUTF8)
            #expect(r.recordID == "tx-1")
        }
        let outside = Array(#"{"id":"tx-1","#.utf8) + [0xFE] + Array("}".utf8)
        #expect(throws: FeedRejection.self) { try FeedDecoder().decode(outside, now: testNow) }
    }

    @Test func duplicateKnownFieldsAreRejectedUnknownOnesIgnored() throws {
        let r = try #require(rejection(line(replacing: "amount", with: #""1.00","amount":"2.00""#)))
        #expect(r.code == .duplicateField && r.field == "amount" && r.recordID == "tx-000001")
        let ok = line(replacing: "note", with: #"{"a":[1,2,{"b":null}],"c":"\"x\""},"note":[true,false,-1.5e-3]"#)
        #expect((try? decode(ok).get()) != nil)
    }

    @Test func escapesAndUnicodeDecode() throws {
        let tx = try decode(line(replacing: "merchant_id", with: #""Caf\u00e9 \"M\u00fcller\" \\ \/ \ud83d\ude00 日本""#)).get()
        #expect(tx.merchantID == "Café \"Müller\" \\ / 😀 日本")
        let raw = try decode(line(replacing: "account_id", with: "\"Zürich-東京-😀\"")).get()
        #expect(raw.accountID == "Zürich-東京-😀")
        // An escaped member name still matches its field.
        let escapedKey = #"{"\u0069d":"tx-7","timestamp":"2026-11-24T10:15:00Z","account_id":"a","amount":"1","currency":"EUR","channel":"atm"}"#
        #expect(try decode(escapedKey).get().id == "tx-7")
    }

    @Test func nestingIsDepthLimited() throws {
        let deep = String(repeating: "[", count: 10_000) + String(repeating: "]", count: 10_000)
        let r = try #require(rejection(line(replacing: "x", with: deep)))
        #expect(r.code == .invalidJSON && r.message.contains("deeper"))
        let fine = String(repeating: "[", count: 30) + String(repeating: "]", count: 30)
        #expect((try? decode(line(replacing: "x", with: fine)).get()) != nil)
    }

    @Test func lineTooLongHasACodeAndMessage() {
        let r = FeedRejection.lineTooLong(limit: 65_536)
        #expect(r.code.rawValue == "line_too_long" && r.message.contains("65536"))
    }
}

extension String {
    func replacingEUR(with code: String) -> String {
        split(separator: "\"EUR\"", omittingEmptySubsequences: false).joined(separator: "\"\(code)\"")
    }
}
