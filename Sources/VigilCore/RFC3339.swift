/// RFC 3339 timestamps without Foundation: parsing from bytes and formatting in UTC.
///
/// Hand-written because the feed decodes one per record on the hot path and
/// `ISO8601DateFormatter` allocates and is slow; the civil-date arithmetic is
/// Howard Hinnant's `days_from_civil`, exact for the proleptic Gregorian calendar.
public enum RFC3339 {
    /// Parses `YYYY-MM-DDTHH:MM:SS[.frac](Z|±HH:MM)` (also lower-case `t`/`z` and a space
    /// separator); fractions beyond microseconds are truncated. `nil` when malformed.
    public static func parse(_ bytes: some Collection<UInt8>) -> Timestamp? {
        var it = bytes.makeIterator()
        var pending: UInt8? = nil
        func next() -> UInt8? {
            if let p = pending {
                pending = nil
                return p
            }
            return it.next()
        }
        func digits(_ n: Int) -> Int64? {
            var v: Int64 = 0
            for _ in 0..<n {
                guard let b = next(), b >= 48, b <= 57 else { return nil }
                v = v * 10 + Int64(b - 48)
            }
            return v
        }
        func expect(_ c: UInt8) -> Bool { next() == c }

        guard let year = digits(4), expect(UInt8(ascii: "-")),
            let month = digits(2), expect(UInt8(ascii: "-")),
            let day = digits(2)
        else { return nil }
        guard let sep = next(), sep == UInt8(ascii: "T") || sep == UInt8(ascii: "t") || sep == UInt8(ascii: " ") else { return nil }
        guard let hour = digits(2), expect(UInt8(ascii: ":")),
            let minute = digits(2), expect(UInt8(ascii: ":")),
            let second = digits(2)
        else { return nil }
        guard (1...12).contains(month), day >= 1, day <= daysInMonth(year: year, month: month),
            hour <= 23, minute <= 59, second <= 60
        else { return nil }

        var micros: Int64 = 0
        guard var b = next() else { return nil }
        if b == UInt8(ascii: ".") {
            var count = 0
            while true {
                guard let d = next() else { return nil }
                if d >= 48 && d <= 57 {
                    if count < 6 { micros = micros * 10 + Int64(d - 48) }
                    count += 1
                    if count > 12 { return nil }
                } else {
                    b = d
                    break
                }
            }
            guard count > 0 else { return nil }
            for _ in min(count, 6)..<6 { micros *= 10 }
        }
        var offsetSeconds: Int64 = 0
        switch b {
        case UInt8(ascii: "Z"), UInt8(ascii: "z"):
            break
        case UInt8(ascii: "+"), UInt8(ascii: "-"):
            guard let oh = digits(2), expect(UInt8(ascii: ":")), let om = digits(2), oh <= 23, om <= 59 else { return nil }
            offsetSeconds = (oh * 3600 + om * 60) * (b == UInt8(ascii: "+") ? 1 : -1)
        default:
            return nil
        }
        guard next() == nil else { return nil }
        let days = daysFromCivil(year: year, month: month, day: day)
        let seconds = days * 86_400 + hour * 3600 + minute * 60 + min(second, 59) - offsetSeconds
        return Timestamp(microsecondsSinceEpoch: seconds * 1_000_000 + micros)
    }

    /// Parses RFC 3339 text.
    public static func parse(_ text: String) -> Timestamp? {
        parse(Array(text.utf8))
    }

    /// Formats as `YYYY-MM-DDTHH:MM:SS.ffffffZ` in UTC.
    public static func format(_ t: Timestamp) -> String {
        let (c, parts) = components(t)
        func pad(_ v: Int64, _ n: Int) -> String {
            let s = String(v)
            return s.count >= n ? s : String(repeating: "0", count: n - s.count) + s
        }
        return
            "\(pad(c.year, 4))-\(pad(c.month, 2))-\(pad(c.day, 2))T\(pad(parts.hour, 2)):\(pad(parts.minute, 2)):\(pad(parts.second, 2)).\(pad(parts.micros, 6))Z"
    }

    /// Calendar date and time of day in UTC.
    public static func components(_ t: Timestamp) -> (
        date: (year: Int64, month: Int64, day: Int64), time: (hour: Int64, minute: Int64, second: Int64, micros: Int64)
    ) {
        let us = t.microsecondsSinceEpoch
        var secs = us / 1_000_000
        var micros = us % 1_000_000
        if micros < 0 {
            micros += 1_000_000
            secs -= 1
        }
        var days = secs / 86_400
        var rem = secs % 86_400
        if rem < 0 {
            rem += 86_400
            days -= 1
        }
        let date = civilFromDays(days)
        return (date, (rem / 3600, (rem % 3600) / 60, rem % 60, micros))
    }

    static func daysInMonth(year: Int64, month: Int64) -> Int64 {
        switch month {
        case 2: return (year % 4 == 0 && (year % 100 != 0 || year % 400 == 0)) ? 29 : 28
        case 4, 6, 9, 11: return 30
        default: return 31
        }
    }

    /// Days since 1970-01-01 of a proleptic Gregorian date.
    public static func daysFromCivil(year: Int64, month: Int64, day: Int64) -> Int64 {
        let y = month <= 2 ? year - 1 : year
        let era = (y >= 0 ? y : y - 399) / 400
        let yoe = y - era * 400
        let mp = (month + 9) % 12
        let doy = (153 * mp + 2) / 5 + day - 1
        let doe = yoe * 365 + yoe / 4 - yoe / 100 + doy
        return era * 146_097 + doe - 719_468
    }

    /// Proleptic Gregorian date of a day count since 1970-01-01.
    public static func civilFromDays(_ z0: Int64) -> (year: Int64, month: Int64, day: Int64) {
        let z = z0 + 719_468
        let era = (z >= 0 ? z : z - 146_096) / 146_097
        let doe = z - era * 146_097
        let yoe = (doe - doe / 1460 + doe / 36524 - doe / 146_096) / 365
        let y = yoe + era * 400
        let doy = doe - (365 * yoe + yoe / 4 - yoe / 100)
        let mp = (5 * doy + 2) / 153
        let d = doy - (153 * mp + 2) / 5 + 1
        let m = mp < 10 ? mp + 3 : mp - 9
        return (m <= 2 ? y + 1 : y, m, d)
    }
}
