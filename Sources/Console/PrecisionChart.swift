/// A small chart of a rule's precision per day, drawn on the server as SVG: a point per day
/// at fraud ÷ (fraud + legitimate) of the rule's alerts raised that UTC day and disposed
/// since, joined by a line; a faint bar under each day for how many were disposed. A day
/// with nothing disposed is a gap (no point, no bar, the line broken), never 0%.
/// No script, no external resource; each day has a tooltip with its numbers.
public enum PrecisionChart {
    /// The dispositions of one rule's alerts raised on one UTC day.
    public struct Day: Sendable, Equatable {
        /// The UTC day, `2026-11-30`.
        public var date: String
        public var fraud: Int
        public var legitimate: Int
        /// Disposed but neither: left out of precision, shown in the count.
        public var inconclusive: Int

        public init(date: String, fraud: Int = 0, legitimate: Int = 0, inconclusive: Int = 0) {
            self.date = date
            self.fraud = fraud
            self.legitimate = legitimate
            self.inconclusive = inconclusive
        }

        /// The dispositions precision counts: fraud or legitimate.
        public var judged: Int { fraud + legitimate }
        public var disposed: Int { fraud + legitimate + inconclusive }
    }

    /// The chart's size in pixels (as the hit chart's, so the columns line up).
    static let width = 240
    static let height = 40
    /// Room above 100% and below 0% so a point on either line is drawn whole.
    static let inset = 3.0

    /// The SVG for `days`, oldest first; nil is a day on which nothing was disposed.
    /// `label` names the chart for screen readers; a summary of the figures follows it.
    public static func svg(days: [Day?], label: String) -> String {
        guard !days.isEmpty else { return "" }
        let slot = Double(width) / Double(days.count)
        let bar = max(1.0, slot - 2)
        let peak = max(1, days.map { $0?.disposed ?? 0 }.max() ?? 1)
        let top = inset
        let bottom = Double(height) - inset
        func y(_ day: Day) -> Double { bottom - Double(max(0, day.fraud)) / Double(max(1, day.judged)) * (bottom - top) }
        func x(_ index: Int) -> Double { (Double(index) + 0.5) * slot }

        var out =
            "<svg class=\"chart precision-chart\" xmlns=\"http://www.w3.org/2000/svg\" width=\"\(width)\" height=\"\(height)\" viewBox=\"0 0 \(width) \(height)\" role=\"img\" aria-label=\"\(SVGText.escape(label + ": " + summary(days)))\">"
        // 100% and 0%: where a perfect and a useless rule sit.
        out += "<line x1=\"0\" y1=\(quoted(top)) x2=\"\(width)\" y2=\(quoted(top)) stroke=\"#d9dee5\" stroke-dasharray=\"2 3\"/>"
        out += "<line x1=\"0\" y1=\(quoted(bottom)) x2=\"\(width)\" y2=\(quoted(bottom)) stroke=\"#d9dee5\"/>"
        for (index, day) in days.enumerated() {
            guard let day, day.disposed > 0 else { continue }
            let barHeight = Double(day.disposed) / Double(peak) * (bottom - top)
            out += "<g><title>\(SVGText.escape(tooltip(day)))</title>"
            // The whole column answers the pointer, not only the 4-pixel point.
            out += "<rect x=\(quoted(Double(index) * slot)) y=\"0\" width=\(quoted(slot)) height=\"\(height)\" fill=\"#fff\" fill-opacity=\"0\"/>"
            out +=
                "<rect x=\(quoted(Double(index) * slot + 1)) y=\(quoted(bottom - barHeight)) width=\(quoted(bar)) height=\(quoted(barHeight)) fill=\"#e3e8ef\"/>"
            if day.judged > 0 {
                out += "<circle cx=\(quoted(x(index))) cy=\(quoted(y(day))) r=\"2\" fill=\"#1f5fbf\"/>"
            }
            out += "</g>"
        }
        // The line joins neighbouring days only: a gap stays a gap.
        var run: [String] = []
        func flush() {
            if run.count > 1 {
                out += "<polyline points=\"\(run.joined(separator: " "))\" fill=\"none\" stroke=\"#1f5fbf\" stroke-width=\"1.5\"/>"
            }
            run = []
        }
        for (index, day) in days.enumerated() {
            guard let day, day.judged > 0 else {
                flush()
                continue
            }
            run.append("\(format(x(index))),\(format(y(day)))")
        }
        flush()
        return out + "</svg>"
    }

    /// A day's tooltip: which alerts, the precision and every count behind it.
    static func tooltip(_ day: Day) -> String {
        let others = day.inconclusive > 0 ? "; \(day.inconclusive) inconclusive, not counted" : ""
        guard day.judged > 0 else {
            return "alerts raised \(day.date) (UTC): no precision, \(day.inconclusive) disposed, all inconclusive"
        }
        return "alerts raised \(day.date) (UTC): \(percent(day.fraud, of: day.judged))% fraud, \(day.fraud) of \(day.judged) judged"
            + " (\(day.legitimate) legitimate)\(others)"
    }

    /// What a screen reader says after the label: how many days have a figure, and the latest.
    static func summary(_ days: [Day?]) -> String {
        let judged = days.compactMap { $0 }.filter { $0.judged > 0 }
        guard let latest = judged.last else { return "no alert disposed as fraud or legitimate in these \(days.count) days" }
        return
            "\(judged.count) of \(days.count) days with a figure; latest \(latest.date), \(percent(latest.fraud, of: latest.judged))% of \(latest.judged)"
    }

    /// `part` of `whole` in whole percent, rounded, but never 100% unless all of it and never
    /// 0% unless none of it: 199 of 200 is 99%, 1 of 200 is 1%.
    public static func percent(_ part: Int, of whole: Int) -> Int {
        guard whole > 0 else { return 0 }
        let part = min(max(0, part), whole)
        let rounded = (part * 200 + whole) / (2 * whole)
        if rounded == 100 && part < whole { return 99 }
        if rounded == 0 && part > 0 { return 1 }
        return rounded
    }

    private static func quoted(_ value: Double) -> String { SVGText.quoted(value) }

    private static func format(_ value: Double) -> String { SVGText.format(value) }
}
