import Testing
import VigilCore

@Suite("Money in minor units and UTC timestamps")
struct MoneyAndTimeTests {
    @Test(
        "amounts parse into minor units with the currency's exponent",
        arguments: [
            ("125.40", "EUR", Int64(12_540)), ("125.4", "EUR", 12_540), ("125", "EUR", 12_500), ("1000", "JPY", 1_000),
            ("1.234", "KWD", 1_234), ("0.01", "USD", 1), ("-3.50", "GBP", -350),
        ])
    func parse(text: String, code: String, minor: Int64) throws {
        let currency = try #require(Currency(code: code))
        #expect(Money(decimal: text, currency: currency)?.minorUnits == minor)
    }

    @Test(
        "amounts with more decimals than the currency allows, or garbage, are refused",
        arguments: [
            ("1.001", "EUR"), ("12.5", "JPY"), ("1.2345", "KWD"), ("1e3", "EUR"), ("", "EUR"), (".5", "EUR"), ("5.", "EUR"),
            ("1,00", "EUR"), (" 1.00", "EUR"), ("99999999999999999999", "EUR"), ("--1", "EUR"),
        ])
    func refuse(text: String, code: String) throws {
        let currency = try #require(Currency(code: code))
        #expect(Money(decimal: text, currency: currency) == nil)
    }

    @Test("decimal text round-trips")
    func decimalString() throws {
        let kwd = try #require(Currency(code: "KWD"))
        #expect(Money(minorUnits: 1_005, currency: kwd).decimalString == "1.005")
        #expect(Money(minorUnits: -7, currency: try #require(Currency(code: "EUR"))).decimalString == "-0.07")
        #expect(Money(minorUnits: 500, currency: try #require(Currency(code: "JPY"))).decimalString == "500")
        #expect(Currency(code: "EUX") == nil)
        #expect(Currency(code: "eur") == nil)
    }

    @Test("RFC 3339 parses offsets and fractions into UTC, and formats back")
    func rfc3339() throws {
        let utc = try #require(RFC3339.parse("2026-11-24T10:15:00.123Z"))
        #expect(RFC3339.format(utc) == "2026-11-24T10:15:00.123000Z")
        #expect(RFC3339.parse("2026-11-24T12:15:00.123+02:00") == utc)
        #expect(RFC3339.parse("2024-02-29T00:00:00Z") != nil)
        for bad in ["2026-02-29T00:00:00Z", "2026-11-24 10:15", "2026-13-01T00:00:00Z", "2026-11-24T10:15:00", "yesterday", "2026-11-24T10:15:00.Z"] {
            #expect(RFC3339.parse(bad) == nil, "\(bad) should not parse")
        }
        let epoch = try #require(RFC3339.parse("1970-01-01T00:00:00Z"))
        #expect(epoch.microsecondsSinceEpoch == 0)
        #expect(RFC3339.parse("1969-12-31T23:59:59.5Z")?.microsecondsSinceEpoch == -500_000)
    }

    @Test("JSON strings are escaped")
    func json() {
        #expect(JSONText.quoted("a\"b\\c\nd\u{1}") == #""a\"b\\c\nd\u0001""#)
    }
}
