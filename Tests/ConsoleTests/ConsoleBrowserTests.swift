import Cases
import Foundation
import Metrics
import PostgresStore
import Prometheus
import Testing
import VigilCore
import VigilTesting

/// The console in a real browser (headless Chromium over WebDriver), as an analyst uses it.
/// Screenshots of each page go to `VIGIL_SCREENSHOTS` (`make screenshots` sets docs/console),
/// else to a temporary folder.
@Suite("Console in a browser", .serialized, .timeLimit(.minutes(5)))
struct ConsoleBrowserTests {
    static let screenshots: URL = {
        if let folder = ProcessInfo.processInfo.environment["VIGIL_SCREENSHOTS"], !folder.isEmpty {
            return URL(fileURLWithPath: folder, relativeTo: TestDatabase.repositoryRoot)
        }
        return FileManager.default.temporaryDirectory.appendingPathComponent("vigil-console-screenshots")
    }()

    @Test("an analyst signs in, sees an alert sent through the feed appear in the queue without a reload, moves to it with j and opens it with Enter")
    func liveQueue() async throws {
        // Before the server starts, so its counters and gauges are the registry's.
        _ = Self.registry
        try await TestDatabase.withMigrated { database in
            let token = try await TestTokens.create(.admin, name: "ada", in: database)
            try await withConsoleVigil(database: database, metricsText: Self.metricsText) { feedPort, httpPort in
                let origin = "http://127.0.0.1:\(httpPort)"
                try await WebDriver.with { browser in
                    try await browser.navigate(origin + "/console")
                    // Sent to sign in first; the token is typed once.
                    let field = try await browser.element("#token")
                    try await browser.screenshot(to: Self.screenshots.appendingPathComponent("sign-in.png"))
                    try await browser.type(token, into: field)
                    try await browser.click(try await browser.element("#sign-in"))
                    let who = try await browser.element("#signed-in-as")
                    #expect(try await browser.text(of: who) == "ada")
                    #expect(try await browser.find("#queue-empty") != nil)

                    // Live: wait for the stream to be open, then send alerts through the feed.
                    let status = try await browser.element("#live-status")
                    try await waitUntil("the queue's live stream to connect") { try await browser.attribute("data-state", of: status) == "on" }
                    try await sendFeed(
                        [
                            feedLine("tx-browser-1", amount: "1234.50"), feedLine("tx-browser-2", amount: "12.00", channel: "card_not_present"),
                            feedLine("tx-browser-3", account: "acc-d", amount: "20.00"),
                        ], port: feedPort)
                    let first = try await browser.element("#queue tbody tr[data-id]")
                    try await waitUntil("both alerts in the queue without a reload") {
                        (try await browser.execute("return document.querySelectorAll('#queue tbody tr').length;") as? Int) == 2
                    }
                    let texts =
                        try await browser.execute(
                            "return Array.from(document.querySelectorAll('#queue tbody tr')).map(r => r.innerText.replace(/\\s+/g, ' ').trim());")
                        as? [String] ?? []
                    // Highest severity first; money with its currency.
                    #expect(texts.first?.contains("HIGH") == true || texts.first?.contains("high") == true)
                    #expect(texts.first?.contains("1,234.50 EUR") == true)
                    #expect(texts.last?.contains("12.00 EUR") == true)
                    #expect(try await browser.attribute("hidden", of: try await browser.element("#queue-empty")) != nil)
                    _ = first
                    try await browser.screenshot(to: Self.screenshots.appendingPathComponent("queue.png"))

                    // Keyboard: / goes to the filters (and j there is the select's, not the queue's); j, j, k
                    // select the second row and back to the first; Enter opens it.
                    let selected =
                        "return Array.from(document.querySelectorAll('#queue tbody tr')).findIndex(r => r.getAttribute('aria-selected') === 'true');"
                    try await browser.pressKeys("/")
                    #expect(try await browser.execute("return document.activeElement.id;") as? String == "filter-severity")
                    try await browser.pressKeys("j")
                    #expect(try await browser.execute(selected) as? Int == -1)
                    _ = try await browser.execute("document.activeElement.blur();")
                    try await browser.pressKeys("j")
                    try await browser.pressKeys("j")
                    #expect(try await browser.execute(selected) as? Int == 1)
                    try await browser.pressKeys("k")
                    #expect(try await browser.execute(selected) as? Int == 0)
                    try await browser.pressKeys("\u{E007}")
                    try await waitUntil("the alert page") { try await browser.currentURL().contains("/console/alerts/") }
                    let hits = try await browser.text(of: try await browser.element("#hits"))
                    #expect(hits.contains("large_amount"))
                    #expect(hits.contains("amount 1234.50 is 500.00 or more"))
                    #expect(hits.contains("shadow_everything"))
                    let facts = try await browser.text(of: try await browser.element("#transaction"))
                    #expect(facts.contains("tx-browser-1"))
                    #expect(facts.contains("1,234.50 EUR"))
                    // Times in the browser's zone, UTC on hover.
                    let time = try await browser.element("#transaction time")
                    #expect(try await browser.attribute("title", of: time)?.hasSuffix(" UTC") == true)
                    let timeline = try await browser.text(of: try await browser.element("#timeline"))
                    #expect(timeline.contains("this transaction"))
                    #expect(timeline.contains("12.00 EUR"))
                    #expect(try await browser.find("#case-actions") != nil)
                    // The explain trace stored with the alert: the rule's condition was true.
                    let explain = try await browser.text(of: try await browser.element("#explain"))
                    #expect(explain.contains("large_amount") && explain.contains("= true"), "\(explain)")
                    try await browser.screenshot(to: Self.screenshots.appendingPathComponent("alert.png"))

                    // Dispose it: closed as fraud in one action, in the database and in the rule's precision.
                    try await browser.type("card reported stolen", into: try await browser.element("#reason"))
                    try await browser.click(try await browser.element("#dispose"))
                    try await waitUntil("the case closed on the page") {
                        (try? await browser.text(of: try await browser.element("#case-status", within: .seconds(2)))) == "closed"
                    }
                    #expect(try await browser.text(of: try await browser.element("#case-disposition")) == "fraud")
                    #expect(try await browser.find("#dispose") == nil)
                    let (stored, figures) = try await PostgresConnection.withConnection(database) { db in
                        (
                            try await db.query("SELECT disposition, disposed_by FROM cases").map {
                                "\(try $0.decode(0, as: String.self)) by \(try $0.decode(1, as: String.self))"
                            },
                            try await CaseStore.ruleFigures(from: Timestamp.now().adding(microseconds: -3_600_000_000), to: .now(), on: db)
                        )
                    }
                    #expect(stored == ["fraud by ada"])
                    let large = try #require(
                        figures["rules"].flatMap { rules -> JSON? in
                            guard case .array(let items) = rules else { return nil }
                            return items.first { $0["rule"] == .string("large_amount") }
                        })
                    #expect(large["disposed"] == .int(1) && large["precision"] == .raw("1.0000"), "\(large.text)")
                    try await browser.screenshot(to: Self.screenshots.appendingPathComponent("case-closed.png"))

                    // Four weeks of dispositions before today, so the precision chart has a history.
                    try await PostgresConnection.withConnection(database) { db in try await DispositionHistory.store(Self.history, on: db) }
                    try await browser.navigate(origin + "/console/rules")
                    let rules = try await browser.text(of: try await browser.element("#rules"))
                    #expect(rules.contains("large_amount"))
                    #expect(rules.contains("100% of 1"), "the disposition shows as the rule's precision: \(rules)")
                    #expect(try await browser.find("#rules svg.chart rect") != nil)
                    let points = try await browser.execute("return document.querySelectorAll('#rules svg.precision-chart circle').length;") as? Int
                    // A point per rule and day with an alert judged fraud or legitimate: the history's, and today's
                    // case closed as fraud above, which holds both alerts of acc-c (large_amount, card_not_present),
                    // with shadow_everything's hits on them.
                    var judged: Set<String> = ["large_amount/0", "card_not_present/0", "shadow_everything/0"]
                    for alert in Self.history where alert.disposition == .fraud || alert.disposition == .legitimate {
                        for hit in alert.hits { judged.insert("\(hit.rule)/\(alert.daysAgo)") }
                    }
                    #expect(points == judged.count)
                    #expect(try await browser.find("#reload-rules") != nil)
                    try await browser.screenshot(to: Self.screenshots.appendingPathComponent("rules.png"))

                    try await browser.navigate(origin + "/console/pipeline")
                    let mailboxes = try await browser.text(of: try await browser.element("#mailboxes"))
                    #expect(mailboxes.contains("writer"))
                    try await browser.screenshot(to: Self.screenshots.appendingPathComponent("pipeline.png"))

                    // A narrow screen: the queue still reads, nothing overflows the page.
                    try await browser.setWindowSize(width: 420, height: 800)
                    try await browser.navigate(origin + "/console")
                    _ = try await browser.element("#queue tbody tr[data-id]")
                    let overflow = try await browser.execute("return document.documentElement.scrollWidth <= window.innerWidth + 1;") as? Bool
                    #expect(overflow == true)
                    try await browser.screenshot(to: Self.screenshots.appendingPathComponent("queue-narrow.png"))
                    // The alert page on a narrow screen: the cards stack, nothing is wider than the page.
                    try await browser.click(try await browser.element("#queue tbody tr[data-id] a"))
                    _ = try await browser.element("#hits")
                    let alertOverflow = try await browser.execute("return document.documentElement.scrollWidth <= window.innerWidth + 1;") as? Bool
                    #expect(alertOverflow == true)
                    try await browser.screenshot(to: Self.screenshots.appendingPathComponent("alert-narrow.png"))
                    // The rules page on a narrow screen: its wide table scrolls in its card, the page does not.
                    try await browser.navigate(origin + "/console/rules")
                    _ = try await browser.element("#rules")
                    let rulesOverflow = try await browser.execute("return document.documentElement.scrollWidth <= window.innerWidth + 1;") as? Bool
                    #expect(rulesOverflow == true)
                }
            }
        }
    }

    @Test("a viewer sees no action buttons, and a forged form POST from the page (no CSRF token) is refused")
    func viewerHasNoButtons() async throws {
        try await TestDatabase.withMigrated { database in
            let token = try await TestTokens.create(.viewer, name: "vic", in: database)
            try await withConsoleVigil(database: database) { feedPort, httpPort in
                try await sendFeed([feedLine("tx-viewer-1", amount: "900.00")], port: feedPort)
                let origin = "http://127.0.0.1:\(httpPort)"
                try await WebDriver.with { browser in
                    try await browser.navigate(origin + "/console/sign-in")
                    try await browser.type(token, into: try await browser.element("#token"))
                    try await browser.click(try await browser.element("#sign-in"))
                    try await browser.click(try await browser.element("#queue tbody tr[data-id] a"))
                    _ = try await browser.element("#hits")
                    // The case is shown, but no action: no form, no button.
                    #expect(try await browser.find("#dispose") == nil)
                    #expect(try await browser.find("#assign") == nil)
                    try await browser.navigate(origin + "/console/rules")
                    _ = try await browser.element("#rules")
                    #expect(try await browser.find("#reload-rules") == nil)
                    #expect(try await browser.find("form[method=post] button:not(#sign-out)") == nil)

                    // A forged form (what a hostile page would submit) without the CSRF token.
                    _ = try await browser.execute(
                        """
                        const f = document.createElement('form'); f.method = 'post'; f.action = '/console/rules/reload';
                        document.body.appendChild(f); f.submit();
                        """)
                    let title = try await browser.element("#error-title")
                    #expect(try await browser.text(of: title) == "Form refused")
                    let message = try await browser.text(of: try await browser.element("#error-message"))
                    #expect(message.contains("Nothing was changed"))
                }
                let reloads = try await PostgresConnection.withConnection(database) { db in
                    try await db.query("SELECT count(*) FROM audit_log WHERE action = 'rules.reload'").first?.decode(0, as: Int.self)
                }
                #expect(reloads == 0)
            }
        }
    }

    /// Dispositions of `card_not_present` and `large_amount` alerts on the 29 days before
    /// today, with gaps (days with nothing disposed) and a spread of outcomes; none for
    /// `large_amount` in the last 7 days, so its 7-day figure is the alert closed in the test.
    static let history: [DispositionHistory.Alert] = (1...29).flatMap { day -> [DispositionHistory.Alert] in
        guard day % 6 != 4 else { return [] }
        let outcomes: [Disposition] = [.fraud, .fraud, .legitimate, .fraud, .inconclusive, .legitimate, .fraud]
        var alerts = (0..<(1 + day % 3)).map { index in
            DispositionHistory.Alert(
                id: "tx-history-cnp-\(day)-\(index)", daysAgo: day, hits: [("card_not_present", "alert"), ("shadow_everything", "shadow")],
                disposition: outcomes[(day * 3 + index) % outcomes.count])
        }
        if day >= 7 && day % 2 == 1 {
            alerts.append(
                .init(
                    id: "tx-history-large-\(day)", daysAgo: day, hits: [("large_amount", "alert")], disposition: day % 5 == 0 ? .legitimate : .fraud))
        }
        return alerts
    }

    /// The metrics `/metrics` renders, as `vigil serve` collects them. Bootstrapped once per
    /// process (the metrics system allows no second time); only this suite does it, and
    /// `make test-browser` runs it in a process of its own.
    static let registry: PrometheusCollectorRegistry = {
        let registry = PrometheusCollectorRegistry()
        MetricsSystem.bootstrap(PrometheusMetricsFactory(registry: registry))
        return registry
    }()

    static let metricsText: @Sendable () -> String = {
        var buffer: [UInt8] = []
        registry.emit(into: &buffer)
        return String(decoding: buffer, as: UTF8.self)
    }
}
