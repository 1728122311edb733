import Testing

@testable import Console

@Suite("Console rendering: money, metrics, charts, templates")
struct ConsoleRenderingTests {
    @Test("money is shown by its currency's exponent, grouped, with its code")
    func money() {
        #expect(MoneyText.format(minorUnits: 123_450, currency: "EUR") == "1,234.50 EUR")
        #expect(MoneyText.format(minorUnits: 5, currency: "EUR") == "0.05 EUR")
        #expect(MoneyText.format(minorUnits: 1_234_567, currency: "JPY") == "1,234,567 JPY")
        #expect(MoneyText.format(minorUnits: 1_250, currency: "KWD") == "1.250 KWD")
        #expect(MoneyText.format(minorUnits: 1_234_005, currency: "BHD") == "1,234.005 BHD")
        #expect(MoneyText.format(minorUnits: 7, currency: "JPY") == "7 JPY")
        #expect(MoneyText.format(minorUnits: -100_000_000, currency: "USD") == "-1,000,000.00 USD")
        #expect(MoneyText.format(minorUnits: 42, currency: "XXZ") == "42 (minor units) XXZ")
    }

    @Test("metrics text: counters summed over labels, histogram quantiles interpolated within their bucket")
    func prometheus() {
        let text = """
            # HELP vigil_records_stored_total stored
            # TYPE vigil_records_stored_total counter
            vigil_records_stored_total 1200
            vigil_mailbox_depth{stage="detect-0"} 3
            vigil_mailbox_depth{stage="writer"} 17
            vigil_supervisor_restarts_total{supervisor="pipeline",child="writer"} 2
            vigil_webhook_deliveries_total{endpoint="1",result="delivered"} 9
            vigil_lat_seconds_bucket{le="0.005"} 50
            vigil_lat_seconds_bucket{le="0.01"} 90
            vigil_lat_seconds_bucket{le="0.1"} 100
            vigil_lat_seconds_bucket{le="+Inf"} 100
            vigil_lat_seconds_count 100
            odd{label="a \\"quoted\\" value"} 1
            not a sample line
            """
        let metrics = PrometheusText(text)
        #expect(metrics.total("vigil_records_stored_total") == 1200)
        #expect(metrics.samples(named: "vigil_mailbox_depth").map { $0.labels["stage"] ?? "" } == ["detect-0", "writer"])
        #expect(metrics.samples(named: "odd").first?.labels["label"] == "a \"quoted\" value")
        #expect(metrics.quantile(0.5, ofHistogram: "vigil_lat_seconds") == 0.005)
        let p90 = metrics.quantile(0.9, ofHistogram: "vigil_lat_seconds") ?? 0
        #expect(abs(p90 - 0.01) < 1e-9)
        let p95 = metrics.quantile(0.95, ofHistogram: "vigil_lat_seconds") ?? 0
        #expect(abs(p95 - 0.055) < 1e-9)
        #expect(metrics.quantile(0.5, ofHistogram: "absent") == nil)

        let view = PipelineView.make(metrics: text, sampler: ThroughputSampler(), endpoints: [])
        #expect(view.mailboxes.map(\.value) == ["3", "17"])
        #expect(view.restarts.map(\.label) == ["pipeline / writer"])
        #expect(view.totals.first?.value == "1,200")
    }

    @Test("the throughput rate is measured between two readings")
    func sampler() {
        let sampler = ThroughputSampler()
        let start = ContinuousClock.now
        #expect(sampler.rate(total: 100, now: start) == nil)
        #expect(sampler.rate(total: 150, now: start + .milliseconds(100)) == nil)
        #expect(sampler.rate(total: 300, now: start + .seconds(2)) == 100)
    }

    @Test("the hit chart draws one bar group per hour with hits, scaled to the busiest, and escapes its text")
    func chart() {
        var alert = Array(repeating: 0, count: 24)
        var shadow = Array(repeating: 0, count: 24)
        alert[23] = 4
        shadow[23] = 4
        shadow[0] = 2
        let svg = HitChart.svg(alert: alert, shadow: shadow, label: "hits of <rule> & co")
        #expect(svg.hasPrefix("<svg "))
        #expect(svg.components(separatedBy: "<g>").count - 1 == 2)
        #expect(svg.contains("<title>this hour: 4 alert, 4 shadow</title>"))
        #expect(svg.contains("<title>23 h ago: 0 alert, 2 shadow</title>"))
        #expect(svg.contains("aria-label=\"hits of &lt;rule&gt; &amp; co\""))
        #expect(!svg.contains("<rule>"))
        // The busiest hour fills the height: 4 + 4 of 8, each half of 38 px.
        #expect(svg.contains("height=\"19\""))
    }

    @Test("every template parses, and text from the database is escaped in pages")
    func templates() throws {
        guard case .success = Pages.library else {
            Issue.record("the console's templates do not parse: \(Pages.library)")
            return
        }
        let html = try #require(
            Pages.html(
                "error", title: "No <such> alert", view: ["title": "No <such> alert", "message": "there is no alert \"<script>\""], identity: nil,
                csrf: nil))
        #expect(html.contains("No &lt;such&gt; alert"))
        #expect(html.contains("&lt;script&gt;"))
        #expect(!html.contains("<script>\""))
        #expect(Pages.error(ConsoleError(.notFound, "x", "y")).status == .notFound)
    }
}
