import Testing

@testable import Console

@Suite("The precision chart: a point per day, gaps for days with nothing disposed, counts in tooltips")
struct PrecisionChartTests {
    typealias Day = PrecisionChart.Day

    static func count(_ needle: String, in svg: String) -> Int { svg.components(separatedBy: needle).count - 1 }

    @Test("0% sits on the bottom line and 100% on the top one; neighbouring days are joined by one line")
    func zeroAndHundred() {
        let svg = PrecisionChart.svg(
            days: [Day(date: "2026-11-01", fraud: 0, legitimate: 4), Day(date: "2026-11-02", fraud: 3, legitimate: 0)], label: "p")
        // Two days of 120 px: centres at 60 and 180; 0% at 40 − 3, 100% at 3.
        #expect(svg.contains("<circle cx=\"60\" cy=\"37\""))
        #expect(svg.contains("<circle cx=\"180\" cy=\"3\""))
        #expect(svg.contains("<polyline points=\"60,37 180,3\""))
        #expect(svg.contains("<title>alerts raised 2026-11-01 (UTC): 0% fraud, 0 of 4 judged (4 legitimate)</title>"))
        #expect(svg.contains("<title>alerts raised 2026-11-02 (UTC): 100% fraud, 3 of 3 judged (0 legitimate)</title>"))
    }

    @Test("a day with nothing disposed is a gap: no point, no bar, no tooltip, and the line breaks there instead of dropping to 0%")
    func gaps() {
        let days: [Day?] = [
            Day(date: "2026-11-01", fraud: 1, legitimate: 1), Day(date: "2026-11-02", fraud: 1, legitimate: 0), nil,
            Day(date: "2026-11-04", fraud: 2, legitimate: 2), nil, nil,
        ]
        let svg = PrecisionChart.svg(days: days, label: "p")
        #expect(Self.count("<circle ", in: svg) == 3)
        #expect(Self.count("<title>", in: svg) == 3)
        // One line for the first two days; the day after the gap stands alone.
        #expect(Self.count("<polyline ", in: svg) == 1)
        #expect(svg.contains("<polyline points=\"20,20 60,3\""))
        #expect(!svg.contains("cy=\"37\""), "no day is drawn at 0%")
        #expect(svg.contains("aria-label=\"p: 3 of 6 days with a figure; latest 2026-11-04, 50% of 4\""))
    }

    @Test("disposed alerts show as faint bars scaled to the busiest day; inconclusive ones count there but not in precision")
    func counts() {
        let svg = PrecisionChart.svg(
            days: [Day(date: "2026-11-01", fraud: 1, legitimate: 0, inconclusive: 3), Day(date: "2026-11-02", inconclusive: 2)], label: "p")
        // The busiest day (4 disposed) fills the 34 px between the lines; 2 of 4 fills half.
        #expect(svg.contains("height=\"34\" fill=\"#e3e8ef\""))
        #expect(svg.contains("height=\"17\" fill=\"#e3e8ef\""))
        #expect(svg.contains("100% fraud, 1 of 1 judged (0 legitimate); 3 inconclusive, not counted</title>"))
        // Only inconclusive: a bar and a tooltip, but no point.
        #expect(Self.count("<circle ", in: svg) == 1)
        #expect(svg.contains("<title>alerts raised 2026-11-02 (UTC): no precision, 2 disposed, all inconclusive</title>"))
        #expect(svg.contains("role=\"img\""))
    }

    @Test("text is escaped; no input draws nothing; a window with nothing disposed says so to a screen reader")
    func escapingAndEmpty() {
        #expect(PrecisionChart.svg(days: [], label: "p") == "")
        let svg = PrecisionChart.svg(days: [Day(date: "<b>&", fraud: 1, legitimate: 0)], label: "precision of \"<rule>\" & 'co'")
        #expect(svg.contains("aria-label=\"precision of &quot;&lt;rule&gt;&quot; &amp; &#39;co&#39;: 1 of 1 days"))
        #expect(svg.contains("alerts raised &lt;b&gt;&amp; (UTC)"))
        #expect(!svg.contains("<rule>") && !svg.contains("<b>"))
        let none = PrecisionChart.svg(days: [nil, nil, nil], label: "p")
        #expect(Self.count("<g>", in: none) == 0 && Self.count("<polyline", in: none) == 0)
        #expect(none.contains("aria-label=\"p: no alert disposed as fraud or legitimate in these 3 days\""))
    }

    @Test("percentages round, but never to 100% unless all and never to 0% unless none")
    func percent() {
        #expect(PrecisionChart.percent(2, of: 3) == 67)
        #expect(PrecisionChart.percent(1, of: 3) == 33)
        #expect(PrecisionChart.percent(1, of: 2) == 50)
        #expect(PrecisionChart.percent(199, of: 200) == 99)
        #expect(PrecisionChart.percent(1, of: 200) == 1)
        #expect(PrecisionChart.percent(0, of: 5) == 0)
        #expect(PrecisionChart.percent(5, of: 5) == 100)
        #expect(PrecisionChart.percent(1, of: 0) == 0)
    }
}
