import VigilCore

/// Encodes a `Transaction` as its canonical protocol v1 line: the stored raw payload
/// and what the generator writes.
///
/// Canonical means fixed member order, absent optionals omitted, timestamps in UTC with
/// microseconds, amounts with exactly the currency's fraction digits: decoding the line
/// gives back an equal `Transaction`.
public enum FeedEncoder {
    /// Appends the line, with its trailing `\n` when `newline` is true, to `out`.
    public static func append(_ tx: Transaction, to out: inout [UInt8], newline: Bool = true) {
        JSONWriter.appendRaw("{\"id\":", to: &out)
        JSONText.appendQuoted(tx.id, to: &out)
        JSONWriter.appendRaw(",\"timestamp\":\"", to: &out)
        appendTimestamp(tx.timestamp, to: &out)
        JSONWriter.appendRaw("\",\"account_id\":", to: &out)
        JSONText.appendQuoted(tx.accountID, to: &out)
        if let card = tx.cardID {
            JSONWriter.appendRaw(",\"card_id\":", to: &out)
            JSONText.appendQuoted(card, to: &out)
        }
        JSONWriter.appendRaw(",\"amount\":\"", to: &out)
        appendAmount(tx.amount, to: &out)
        JSONWriter.appendRaw("\",\"currency\":", to: &out)
        JSONText.appendQuoted(tx.amount.currency.code, to: &out)
        if let merchant = tx.merchantID {
            JSONWriter.appendRaw(",\"merchant_id\":", to: &out)
            JSONText.appendQuoted(merchant, to: &out)
        }
        if let mcc = tx.mcc {
            JSONWriter.appendRaw(",\"mcc\":", to: &out)
            JSONText.appendQuoted(mcc, to: &out)
        }
        if let country = tx.country {
            JSONWriter.appendRaw(",\"country\":", to: &out)
            JSONText.appendQuoted(country, to: &out)
        }
        JSONWriter.appendRaw(",\"channel\":", to: &out)
        JSONText.appendQuoted(tx.channel.rawValue, to: &out)
        if let device = tx.deviceID {
            JSONWriter.appendRaw(",\"device_id\":", to: &out)
            JSONText.appendQuoted(device, to: &out)
        }
        if let ip = tx.ip {
            JSONWriter.appendRaw(",\"ip\":", to: &out)
            JSONText.appendQuoted(ip, to: &out)
        }
        if let lat = tx.latitude, let lon = tx.longitude, lat.isFinite, lon.isFinite {
            JSONWriter.appendRaw(",\"lat\":", to: &out)
            out.append(contentsOf: lat.description.utf8)
            JSONWriter.appendRaw(",\"lon\":", to: &out)
            out.append(contentsOf: lon.description.utf8)
        }
        out.append(UInt8(ascii: "}"))
        if newline { out.append(UInt8(ascii: "\n")) }
    }

    /// The canonical line as a `String`, without the newline.
    public static func line(_ tx: Transaction) -> String {
        var out: [UInt8] = []
        append(tx, to: &out, newline: false)
        return String(decoding: out, as: UTF8.self)
    }

    /// `YYYY-MM-DDTHH:MM:SS.ffffffZ`, written digit by digit (RFC3339.format builds Strings);
    /// the same text as `RFC3339.format` for years 0 to 9999.
    public static func appendTimestamp(_ t: Timestamp, to out: inout [UInt8]) {
        let (date, time) = RFC3339.components(t)
        let year = UInt64(clamping: max(0, min(date.year, 9999)))
        JSONWriter.appendDecimal(year, width: 4, to: &out)
        out.append(UInt8(ascii: "-"))
        JSONWriter.appendDecimal(UInt64(clamping: date.month), width: 2, to: &out)
        out.append(UInt8(ascii: "-"))
        JSONWriter.appendDecimal(UInt64(clamping: date.day), width: 2, to: &out)
        out.append(UInt8(ascii: "T"))
        JSONWriter.appendDecimal(UInt64(clamping: time.hour), width: 2, to: &out)
        out.append(UInt8(ascii: ":"))
        JSONWriter.appendDecimal(UInt64(clamping: time.minute), width: 2, to: &out)
        out.append(UInt8(ascii: ":"))
        JSONWriter.appendDecimal(UInt64(clamping: time.second), width: 2, to: &out)
        out.append(UInt8(ascii: "."))
        JSONWriter.appendDecimal(UInt64(clamping: time.micros), width: 6, to: &out)
        out.append(UInt8(ascii: "Z"))
    }

    /// Minor units as a decimal with exactly the currency's fraction digits (the text of
    /// `Money.decimalString`).
    public static func appendAmount(_ money: Money, to out: inout [UInt8]) {
        if money.minorUnits < 0 { out.append(UInt8(ascii: "-")) }
        let scale = UInt64(money.currency.minorUnitsPerMajor)
        let magnitude = money.minorUnits.magnitude
        JSONWriter.appendDecimal(magnitude / scale, to: &out)
        if money.currency.exponent > 0 {
            out.append(UInt8(ascii: "."))
            JSONWriter.appendDecimal(magnitude % scale, width: money.currency.exponent, to: &out)
        }
    }
}
