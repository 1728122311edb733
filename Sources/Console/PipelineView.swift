import PostgresStore
import Synchronization
import VigilCore

/// The pipeline page's figures, read from the same metrics `/metrics` exposes, plus the
/// webhook endpoints' state from PostgreSQL.
struct PipelineView {
    struct Pair {
        let label: String
        let value: String
    }

    struct LatencyView {
        let percentiles: [Pair]
        let count: String
    }

    struct EndpointView {
        let id: Int64
        let url: String
        let state: String
        let stateClass: String
        let delivered: String
        let retried: String
        let dead: String
    }

    let available: Bool
    let readAt: String
    let rate: String
    let rateNote: String
    let totals: [Pair]
    let latency: LatencyView?
    let mailboxes: [Pair]
    let restarts: [Pair]
    let endpoints: [EndpointView]

    /// The page from `metrics` (nil: not collected), `sampler` (for the rate) and the endpoints.
    static func make(metrics text: String?, sampler: ThroughputSampler, endpoints: [WebhookEndpointState]) -> PipelineView {
        let now = Timestamp.now()
        guard let text else {
            return PipelineView(
                available: false, readAt: RFC3339.format(now), rate: "", rateNote: "", totals: [], latency: nil, mailboxes: [], restarts: [],
                endpoints: [])
        }
        let metrics = PrometheusText(text)
        let stored = metrics.total("vigil_records_stored_total")
        let rate = sampler.rate(total: stored)
        let totals = [
            Pair(label: "Stored", value: whole(stored)), Pair(label: "Duplicates", value: whole(metrics.total("vigil_records_duplicate_total"))),
            Pair(label: "Rejected", value: whole(metrics.total("vigil_records_rejected_total"))),
            Pair(label: "Alerts", value: whole(metrics.total("vigil_alerts_total"))),
        ]
        let latencyName = "vigil_decision_latency_seconds"
        var latency: LatencyView?
        if metrics.count(ofHistogram: latencyName) > 0 {
            let percentiles = [("p50", 0.5), ("p90", 0.9), ("p99", 0.99)].map { label, q in
                Pair(label: label, value: metrics.quantile(q, ofHistogram: latencyName).map(milliseconds) ?? "–")
            }
            latency = LatencyView(percentiles: percentiles, count: whole(metrics.count(ofHistogram: latencyName)))
        }
        let mailboxes = metrics.samples(named: "vigil_mailbox_depth")
            .map { Pair(label: $0.labels["stage"] ?? "?", value: whole($0.value)) }
            .sorted { $0.label < $1.label }
        let restarts = metrics.samples(named: "vigil_supervisor_restarts_total").filter { $0.value > 0 }
            .map { Pair(label: "\($0.labels["supervisor"] ?? "?") / \($0.labels["child"] ?? "?")", value: whole($0.value)) }
        let deliveries = metrics.samples(named: "vigil_webhook_deliveries_total")
        func count(_ endpoint: Int64, _ result: String) -> String {
            whole(deliveries.filter { $0.labels["endpoint"] == String(endpoint) && $0.labels["result"] == result }.reduce(0) { $0 + $1.value })
        }
        let endpointViews = endpoints.map { endpoint in
            let (state, stateClass): (String, String) =
                if !endpoint.enabled {
                    ("disabled" + (endpoint.disabledReason.map { ": \($0)" } ?? ""), "disabled")
                } else if let since = endpoint.failingSince {
                    ("failing since \(RFC3339.format(since)), \(endpoint.pending) pending", "failing")
                } else {
                    ("healthy, \(endpoint.pending) pending", "ok")
                }
            return EndpointView(
                id: endpoint.id, url: endpoint.url, state: state, stateClass: stateClass, delivered: count(endpoint.id, "delivered"),
                retried: count(endpoint.id, "retried"), dead: count(endpoint.id, "dead"))
        }
        return PipelineView(
            available: true, readAt: RFC3339.format(now), rate: rate.map { "\(whole($0)) tx/s" } ?? "–",
            rateNote: rate == nil
                ? "Transactions stored per second appear from the second view on (measured between two views)."
                : "Transactions stored per second since the previous reading (the page reads again every 10 s).",
            totals: totals, latency: latency, mailboxes: mailboxes, restarts: restarts, endpoints: endpointViews)
    }

    static func whole(_ value: Double) -> String {
        guard value.isFinite else { return "–" }
        return MoneyText.grouped(String(Int64(value.rounded())))
    }

    static func milliseconds(_ seconds: Double) -> String {
        guard seconds.isFinite else { return "–" }
        let tenths = Int64((seconds * 10_000).rounded())
        return "\(tenths / 10).\(tenths % 10) ms"
    }
}

/// Remembers the last reading of a counter so a page view can show a rate since the previous one.
final class ThroughputSampler: Sendable {
    private let last = Mutex<(at: ContinuousClock.Instant, total: Double)?>(nil)

    /// Per second since the previous call (nil on the first, or within 200 ms of it).
    func rate(total: Double, now: ContinuousClock.Instant = .now) -> Double? {
        last.withLock { last in
            guard let previous = last else {
                last = (now, total)
                return nil
            }
            let elapsed = now - previous.at
            guard elapsed >= .milliseconds(200) else { return nil }
            last = (now, total)
            let seconds = Double(elapsed.components.seconds) + Double(elapsed.components.attoseconds) / 1e18
            return max(0, total - previous.total) / seconds
        }
    }
}

/// A webhook endpoint as the pipeline page shows it.
struct WebhookEndpointState: Sendable {
    let id: Int64
    let url: String
    let enabled: Bool
    let disabledReason: String?
    let failingSince: Timestamp?
    let pending: Int

    static func all(on db: PostgresConnection) async throws -> [WebhookEndpointState] {
        try await db.query(
            """
            SELECT e.id, e.url, e.enabled, e.disabled_reason, e.failing_since,
                   (SELECT count(*) FROM webhook_outbox o WHERE o.endpoint_id = e.id AND o.status = 'pending')
            FROM webhook_endpoints e ORDER BY e.id
            """
        ).map { row in
            WebhookEndpointState(
                id: try row.decode(0), url: try row.decode(1), enabled: try row.decode(2), disabledReason: try row.decodeIfPresent(3),
                failingSince: try row.decodeIfPresent(4), pending: try row.decode(5))
        }
    }
}
