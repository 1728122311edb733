import VigilCore

/// An exact decimal number: an `Int64` count of millionths (six fraction digits).
///
/// Money and ratios in rules use this, never `Double`: `0.10 + 0.20 == 0.30` holds.
/// The range is about ±9.2 trillion, ample for a single transaction or a window sum;
/// every operation reports overflow as `nil` instead of trapping.
public struct DecimalValue: Sendable, Hashable, Comparable, CustomStringConvertible {
    /// Number of digits after the decimal point.
    public static let fractionDigits = 6
    /// Units per whole number (10^6).
    public static let scale: Int64 = 1_000_000
    /// Zero.
    public static let zero = DecimalValue(units: 0)

    /// The value in millionths.
    public var units: Int64

    /// Creates a value from millionths.
    public init(units: Int64) { self.units = units }

    /// Creates a whole number; `nil` if out of range.
    public init?(integer: Int64) {
        let (v, o) = integer.multipliedReportingOverflow(by: DecimalValue.scale)
        guard !o else { return nil }
        units = v
    }

    /// Converts money minor units with the given currency exponent (0...6).
    public init?(minorUnits: Int64, exponent: Int) {
        guard exponent >= 0, exponent <= DecimalValue.fractionDigits else { return nil }
        var factor: Int64 = 1
        for _ in exponent..<DecimalValue.fractionDigits { factor &*= 10 }
        let (v, o) = minorUnits.multipliedReportingOverflow(by: factor)
        guard !o else { return nil }
        units = v
    }

    /// Converts degrees or other non-money measurements given as `Double` (rounded to 10^-6).
    public init?(approximating value: Double) {
        guard value.isFinite, abs(value) < 9.2e12 else { return nil }
        units = Int64((value * Double(DecimalValue.scale)).rounded())
    }

    /// Parses `-?digits(.digits)?` with at most six fraction digits; `nil` otherwise.
    public init?(parsing text: some StringProtocol) {
        guard let v = Money.parseMinorUnits(text.utf8, exponent: DecimalValue.fractionDigits) else { return nil }
        units = v
    }

    /// The value as a `Double`, for geometry only (never for money).
    public var doubleValue: Double { Double(units) / Double(DecimalValue.scale) }

    public static func < (a: DecimalValue, b: DecimalValue) -> Bool { a.units < b.units }

    /// Sum, or `nil` on overflow.
    public func adding(_ o: DecimalValue) -> DecimalValue? {
        let (v, f) = units.addingReportingOverflow(o.units)
        return f ? nil : DecimalValue(units: v)
    }

    /// Difference, or `nil` on overflow.
    public func subtracting(_ o: DecimalValue) -> DecimalValue? {
        let (v, f) = units.subtractingReportingOverflow(o.units)
        return f ? nil : DecimalValue(units: v)
    }

    /// Product rounded toward zero to six digits, or `nil` on overflow.
    public func multiplied(by o: DecimalValue) -> DecimalValue? {
        let wide = units.multipliedFullWidth(by: o.units)
        // Divide the 128-bit product by the scale; the quotient must fit Int64.
        let negative = (units < 0) != (o.units < 0)
        let magnitude = (high: wide.high, low: wide.low)
        var hi = UInt64(bitPattern: magnitude.high)
        var lo = magnitude.low
        if wide.high < 0 {  // two's complement negate
            hi = ~hi
            lo = ~lo
            let (l, c) = lo.addingReportingOverflow(1)
            lo = l
            if c { hi &+= 1 }
        }
        let divisor = UInt64(DecimalValue.scale)
        guard hi < divisor else { return nil }
        let (q, _) = divisor.dividingFullWidth((high: hi, low: lo))
        guard q <= UInt64(Int64.max) else { return nil }
        return DecimalValue(units: negative ? -Int64(q) : Int64(q))
    }

    /// Quotient rounded toward zero to six digits; `nil` on division by zero or overflow.
    public func divided(by o: DecimalValue) -> DecimalValue? {
        guard o.units != 0 else { return nil }
        let negative = (units < 0) != (o.units < 0)
        let a = units.magnitude
        let b = o.units.magnitude
        let wide = a.multipliedFullWidth(by: UInt64(DecimalValue.scale))
        guard wide.high < b else { return nil }
        let (q, _) = b.dividingFullWidth(wide)
        guard q <= UInt64(Int64.max) else { return nil }
        return DecimalValue(units: negative ? -Int64(q) : Int64(q))
    }

    /// Canonical text: no trailing zeros beyond what is needed, e.g. `12.5`, `3`, `-0.01`.
    public var description: String {
        let magnitude = units.magnitude
        let whole = magnitude / UInt64(DecimalValue.scale)
        var frac = magnitude % UInt64(DecimalValue.scale)
        var text = units < 0 ? "-" : ""
        text += String(whole)
        if frac != 0 {
            var digits = 6
            while frac % 10 == 0 {
                frac /= 10
                digits -= 1
            }
            let s = String(frac)
            text += "." + String(repeating: "0", count: digits - s.count) + s
        }
        return text
    }

    /// Text with exactly `digits` fraction digits (truncated), e.g. for money in reasons.
    public func formatted(fractionDigits digits: Int) -> String {
        let d = max(0, min(6, digits))
        let magnitude = units.magnitude
        let whole = magnitude / UInt64(DecimalValue.scale)
        var frac = magnitude % UInt64(DecimalValue.scale)
        for _ in d..<6 { frac /= 10 }
        var text = units < 0 ? "-" : ""
        text += String(whole)
        if d > 0 {
            let s = String(frac)
            text += "." + String(repeating: "0", count: d - s.count) + s
        }
        return text
    }
}
