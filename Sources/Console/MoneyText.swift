import Foundation
import VigilCore

/// Money as an analyst reads it: the decimal amount by its currency's exponent, grouped
/// in thousands, and the currency code (`1,234.50 EUR`, `125 JPY`, `1.250 KWD`).
public enum MoneyText {
    /// `minorUnits` of the currency `code`; an unknown code shows the minor units as stored.
    public static func format(minorUnits: Int64, currency code: String) -> String {
        let code = code.trimmingCharacters(in: .whitespaces)
        guard let currency = Currency(code: code) else { return "\(minorUnits) (minor units) \(code)" }
        let decimal = Money(minorUnits: minorUnits, currency: currency).decimalString
        return grouped(decimal) + " " + currency.code
    }

    /// Inserts a comma every three digits of the integer part.
    static func grouped(_ decimal: String) -> String {
        let negative = decimal.hasPrefix("-")
        let unsigned = negative ? String(decimal.dropFirst()) : decimal
        let parts = unsigned.split(separator: ".", maxSplits: 1, omittingEmptySubsequences: false)
        let integer = Array(parts[0])
        var out = ""
        for (index, digit) in integer.enumerated() {
            if index > 0 && (integer.count - index) % 3 == 0 { out.append(",") }
            out.append(digit)
        }
        if parts.count > 1 { out += "." + parts[1] }
        return (negative ? "-" : "") + out
    }
}
