/// An amount of money: integer minor units of one currency. Never a binary float.
public struct Money: Sendable, Hashable, CustomStringConvertible {
    /// The amount in the currency's minor unit (cents for EUR, yen for JPY, fils for KWD).
    public var minorUnits: Int64
    /// The currency the amount is in.
    public var currency: Currency

    /// Creates an amount from minor units.
    public init(minorUnits: Int64, currency: Currency) {
        self.minorUnits = minorUnits
        self.currency = currency
    }

    /// Parses a decimal string such as `"125.40"` into minor units of `currency`.
    ///
    /// Accepts an optional leading `-`, digits, and at most `currency.exponent` fraction
    /// digits; anything else (exponents, spaces, more fraction digits than the currency
    /// allows, values beyond `Int64`) is `nil`.
    public init?(decimal text: some StringProtocol, currency: Currency) {
        guard let units = Money.parseMinorUnits(text.utf8, exponent: currency.exponent) else { return nil }
        self.init(minorUnits: units, currency: currency)
    }

    /// Parses decimal ASCII bytes into minor units with the given exponent; `nil` if invalid.
    public static func parseMinorUnits(_ bytes: some Sequence<UInt8>, exponent: Int) -> Int64? {
        var value: Int64 = 0
        var negative = false
        var seenDigit = false
        var seenPoint = false
        var fractionDigits = 0
        var first = true
        for byte in bytes {
            defer { first = false }
            switch byte {
            case UInt8(ascii: "-") where first:
                negative = true
            case UInt8(ascii: "."):
                guard !seenPoint, seenDigit else { return nil }
                seenPoint = true
            case UInt8(ascii: "0")...UInt8(ascii: "9"):
                if seenPoint {
                    fractionDigits += 1
                    guard fractionDigits <= exponent else { return nil }
                }
                seenDigit = true
                let (m, o1) = value.multipliedReportingOverflow(by: 10)
                let (s, o2) = m.addingReportingOverflow(Int64(byte &- UInt8(ascii: "0")))
                guard !o1, !o2 else { return nil }
                value = s
            default:
                return nil
            }
        }
        guard seenDigit else { return nil }
        if seenPoint && fractionDigits == 0 { return nil }
        while fractionDigits < exponent {
            let (m, o) = value.multipliedReportingOverflow(by: 10)
            guard !o else { return nil }
            value = m
            fractionDigits += 1
        }
        return negative ? -value : value
    }

    /// The amount as decimal text with exactly `currency.exponent` fraction digits.
    public var decimalString: String {
        let scale = currency.minorUnitsPerMajor
        let magnitude = minorUnits.magnitude
        let major = magnitude / UInt64(scale)
        let minor = magnitude % UInt64(scale)
        var text = minorUnits < 0 ? "-" : ""
        text += String(major)
        if currency.exponent > 0 {
            let digits = String(minor)
            text += "." + String(repeating: "0", count: currency.exponent - digits.count) + digits
        }
        return text
    }

    public var description: String { "\(decimalString) \(currency.code)" }
}
