/// Text for the server-drawn charts: XML escaping and pixel numbers.
enum SVGText {
    /// Escapes text for SVG (XML) content and attributes.
    static func escape(_ text: String) -> String {
        var out = ""
        for character in text {
            switch character {
            case "&": out += "&amp;"
            case "<": out += "&lt;"
            case ">": out += "&gt;"
            case "\"": out += "&quot;"
            case "'": out += "&#39;"
            default: out.append(character)
            }
        }
        return out
    }

    /// A pixel value as an attribute value, quotes included.
    static func quoted(_ value: Double) -> String { "\"" + format(value) + "\"" }

    /// One decimal is plenty for pixels (coordinates are never negative).
    static func format(_ value: Double) -> String {
        let tenths = Int((max(0, value) * 10).rounded())
        return tenths % 10 == 0 ? String(tenths / 10) : "\(tenths / 10).\(tenths % 10)"
    }
}
