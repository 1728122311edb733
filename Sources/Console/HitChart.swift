/// A small bar chart of a rule's hits per hour, drawn on the server as SVG: alert hits in
/// the rule's colour stacked on shadow hits in grey, one bar per hour, oldest on the left.
/// No script, no external resource; each bar has a tooltip with its numbers.
public enum HitChart {
    /// The chart's size in pixels.
    static let width = 240
    static let height = 40

    /// The SVG for `alert` and `shadow` counts per hour (same length), oldest first.
    public static func svg(alert: [Int], shadow: [Int], label: String) -> String {
        let buckets = max(alert.count, shadow.count)
        guard buckets > 0 else { return "" }
        let peak = max(1, (0..<buckets).map { value(alert, $0) + value(shadow, $0) }.max() ?? 1)
        let slot = Double(width) / Double(buckets)
        let bar = max(1.0, slot - 2)
        var out =
            "<svg class=\"chart\" xmlns=\"http://www.w3.org/2000/svg\" width=\"\(width)\" height=\"\(height)\" viewBox=\"0 0 \(width) \(height)\" role=\"img\" aria-label=\"\(escape(label))\">"
        out += "<line x1=\"0\" y1=\"\(height - 1)\" x2=\"\(width)\" y2=\"\(height - 1)\" stroke=\"#d9dee5\"/>"
        for index in 0..<buckets {
            let a = value(alert, index)
            let s = value(shadow, index)
            guard a + s > 0 else { continue }
            let x = format(Double(index) * slot + 1)
            let shadowHeight = Double(s) / Double(peak) * Double(height - 2)
            let alertHeight = Double(a) / Double(peak) * Double(height - 2)
            let hoursAgo = buckets - 1 - index
            let when = hoursAgo == 0 ? "this hour" : "\(hoursAgo) h ago"
            out += "<g><title>\(escape(when)): \(a) alert, \(s) shadow</title>"
            if s > 0 {
                out +=
                    "<rect x=\"\(x)\" y=\(quoted(Double(height - 1) - shadowHeight)) width=\(quoted(bar)) height=\(quoted(shadowHeight)) fill=\"#8a94a6\"/>"
            }
            if a > 0 {
                out +=
                    "<rect x=\"\(x)\" y=\(quoted(Double(height - 1) - shadowHeight - alertHeight)) width=\(quoted(bar)) height=\(quoted(alertHeight)) fill=\"#c4461b\"/>"
            }
            out += "</g>"
        }
        return out + "</svg>"
    }

    private static func value(_ values: [Int], _ index: Int) -> Int { index < values.count ? max(0, values[index]) : 0 }

    private static func quoted(_ value: Double) -> String { SVGText.quoted(value) }

    private static func format(_ value: Double) -> String { SVGText.format(value) }

    private static func escape(_ text: String) -> String { SVGText.escape(text) }
}
