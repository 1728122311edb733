/// Small helpers to write JSON text without Foundation (alerts, events).
public enum JSONText {
    /// `text` as a JSON string literal, quotes included, escaped per RFC 8259.
    public static func quoted(_ text: String) -> String {
        var out = "\""
        out.reserveCapacity(text.utf8.count + 2)
        for scalar in text.unicodeScalars {
            switch scalar {
            case "\"": out += "\\\""
            case "\\": out += "\\\\"
            case "\n": out += "\\n"
            case "\r": out += "\\r"
            case "\t": out += "\\t"
            // Valid JSON, but line terminators to JavaScript that embeds or evals the text.
            case "\u{2028}": out += "\\u2028"
            case "\u{2029}": out += "\\u2029"
            case let s where s.value < 0x20:
                let hex = String(s.value, radix: 16)
                out += "\\u" + String(repeating: "0", count: 4 - hex.count) + hex
            default: out.unicodeScalars.append(scalar)
            }
        }
        out += "\""
        return out
    }
}
