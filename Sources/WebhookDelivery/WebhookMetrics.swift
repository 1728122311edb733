import Metrics

/// The dispatcher's metrics, labelled per endpoint.
enum WebhookMetrics {
    static func delivered(endpoint: Int64, latency: Duration) {
        Counter(label: "vigil_webhook_deliveries_total", dimensions: [("endpoint", String(endpoint)), ("result", "delivered")]).increment()
        // From the outbox row's commit (the alert's transaction) to the 2xx.
        Timer(label: "vigil_webhook_delivery_latency_seconds", dimensions: [("endpoint", String(endpoint))], preferredDisplayUnit: .seconds)
            .recordNanoseconds(max(0, latency.components.seconds * 1_000_000_000 + latency.components.attoseconds / 1_000_000_000))
    }

    static func retried(endpoint: Int64) {
        Counter(label: "vigil_webhook_deliveries_total", dimensions: [("endpoint", String(endpoint)), ("result", "retried")]).increment()
    }

    static func dead(endpoint: Int64) {
        Counter(label: "vigil_webhook_deliveries_total", dimensions: [("endpoint", String(endpoint)), ("result", "dead")]).increment()
    }

    static func disabled(endpoint: Int64, reason: String) {
        let kind = reason.contains("410") ? "gone" : "failing"
        Counter(label: "vigil_webhook_endpoints_disabled_total", dimensions: [("endpoint", String(endpoint)), ("reason", kind)]).increment()
    }

    static func attempt(endpoint: Int64, seconds: Double) {
        Timer(label: "vigil_webhook_attempt_duration_seconds", dimensions: [("endpoint", String(endpoint))], preferredDisplayUnit: .seconds)
            .recordNanoseconds(Int64(max(0, seconds) * 1e9))
    }
}
