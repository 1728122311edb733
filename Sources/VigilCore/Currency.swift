/// An ISO 4217 currency: its three-letter code and the number of digits of its minor unit.
public struct Currency: Sendable, Hashable, CustomStringConvertible {
    /// The upper-case ISO 4217 alphabetic code, e.g. `EUR`.
    public let code: String
    /// Digits after the decimal point in the minor unit: JPY 0, EUR 2, KWD 3.
    public let exponent: Int

    /// Creates a currency from a known ISO 4217 code; `nil` for an unknown code.
    public init?(code: String) {
        guard let exponent = Currency.exponents[code] else { return nil }
        self.code = code
        self.exponent = exponent
    }

    public var description: String { code }

    /// Powers of ten by exponent, to scale minor units without `pow` on doubles.
    public var minorUnitsPerMajor: Int64 {
        switch exponent {
        case 0: 1
        case 1: 10
        case 2: 100
        case 3: 1_000
        default: 10_000
        }
    }

    /// ISO 4217 active codes and their minor-unit exponents (list of 2024).
    static let exponents: [String: Int] = {
        var table: [String: Int] = [:]
        let zero = "BIF CLP DJF GNF ISK JPY KMF KRW PYG RWF UGX UYI VND VUV XAF XOF XPF"
        let three = "BHD IQD JOD KWD LYD OMR TND"
        let four = "CLF UYW"
        let two = """
            AED AFN ALL AMD ANG AOA ARS AUD AWG AZN BAM BBD BDT BGN BMD BND BOB BOV BRL BSD BTN \
            BWP BYN BZD CAD CDF CHE CHF CHW CNY COP COU CRC CUC CUP CVE CZK DKK DOP DZD EGP ERN \
            ETB EUR FJD FKP GBP GEL GHS GIP GMD GTQ GYD HKD HNL HTG HUF IDR ILS INR IRR JMD KES \
            KGS KHR KPW KYD KZT LAK LBP LKR LRD LSL MAD MDL MGA MKD MMK MNT MOP MRU MUR MVR MWK \
            MXN MXV MYR MZN NAD NGN NIO NOK NPR NZD PAB PEN PGK PHP PKR PLN QAR RON RSD RUB SAR \
            SBD SCR SDG SEK SGD SHP SLE SOS SRD SSP STN SVC SYP SZL THB TJS TMT TOP TRY TTD TWD \
            TZS UAH USD USN UYU UZS VED VES WST XCD YER ZAR ZMW ZWG
            """
        for code in zero.split(separator: " ") { table[String(code)] = 0 }
        for code in two.split(separator: " ") { table[String(code)] = 2 }
        for code in three.split(separator: " ") { table[String(code)] = 3 }
        for code in four.split(separator: " ") { table[String(code)] = 4 }
        return table
    }()
}
