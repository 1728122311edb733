/// ISO 3166-1 alpha-2 country codes, checked with a 26×26 bit table (no hashing,
/// no allocation on the hot path).
public enum ISO3166 {
    /// Officially assigned codes, plus XK (Kosovo), which card networks use.
    static let codes = """
        AD AE AF AG AI AL AM AO AQ AR AS AT AU AW AX AZ BA BB BD BE BF BG BH BI BJ BL BM BN BO BQ BR \
        BS BT BV BW BY BZ CA CC CD CF CG CH CI CK CL CM CN CO CR CU CV CW CX CY CZ DE DJ DK DM DO DZ \
        EC EE EG EH ER ES ET FI FJ FK FM FO FR GA GB GD GE GF GG GH GI GL GM GN GP GQ GR GS GT GU GW \
        GY HK HM HN HR HT HU ID IE IL IM IN IO IQ IR IS IT JE JM JO JP KE KG KH KI KM KN KP KR KW KY \
        KZ LA LB LC LI LK LR LS LT LU LV LY MA MC MD ME MF MG MH MK ML MM MN MO MP MQ MR MS MT MU MV \
        MW MX MY MZ NA NC NE NF NG NI NL NO NP NR NU NZ OM PA PE PF PG PH PK PL PM PN PR PS PT PW PY \
        QA RE RO RS RU RW SA SB SC SD SE SG SH SI SJ SK SL SM SN SO SR SS ST SV SX SY SZ TC TD TF TG \
        TH TJ TK TL TM TN TO TR TT TV TW TZ UA UG UM US UY UZ VA VC VE VG VI VN VU WF WS XK YE YT ZA \
        ZM ZW
        """

    private static let table: [Bool] = {
        var table = [Bool](repeating: false, count: 26 * 26)
        for code in codes.split(separator: " ") {
            let u = Array(code.utf8)
            guard u.count == 2 else { continue }
            table[Int(u[0] - 65) * 26 + Int(u[1] - 65)] = true
        }
        return table
    }()

    /// Whether two bytes form an assigned upper-case alpha-2 code.
    @inline(__always)
    public static func isAssigned(_ a: UInt8, _ b: UInt8) -> Bool {
        let x = a &- 65
        let y = b &- 65
        guard x < 26, y < 26 else { return false }
        return table[Int(x) * 26 + Int(y)]
    }

    /// Whether `code` is an assigned upper-case alpha-2 code (for other feed formats).
    public static func isAssigned(_ code: some Collection<UInt8>) -> Bool {
        guard code.count == 2, let first = code.first, let last = code.dropFirst().first else { return false }
        return isAssigned(first, last)
    }
}
