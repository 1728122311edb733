/// Classifies an amount string before parsing, so a rejection can say exactly what is wrong.
enum AmountSyntax: Equatable {
    case ok
    case malformed
    case negative
    case tooPrecise(fractionDigits: Int)

    /// Accepts `digits[.digits]`; reports a leading '-' and excess fraction digits separately.
    static func check(_ bytes: UnsafeBufferPointer<UInt8>, exponent: Int) -> AmountSyntax {
        var i = 0
        var negative = false
        if i < bytes.count, bytes[i] == UInt8(ascii: "-") {
            negative = true
            i += 1
        }
        var integerDigits = 0
        while i < bytes.count, bytes[i] &- UInt8(ascii: "0") < 10 {
            integerDigits += 1
            i += 1
        }
        guard integerDigits > 0 else { return .malformed }
        var fractionDigits = 0
        if i < bytes.count, bytes[i] == UInt8(ascii: ".") {
            i += 1
            while i < bytes.count, bytes[i] &- UInt8(ascii: "0") < 10 {
                fractionDigits += 1
                i += 1
            }
            guard fractionDigits > 0 else { return .malformed }
        }
        guard i == bytes.count else { return .malformed }
        if negative { return .negative }
        if fractionDigits > exponent { return .tooPrecise(fractionDigits: fractionDigits) }
        return .ok
    }
}
