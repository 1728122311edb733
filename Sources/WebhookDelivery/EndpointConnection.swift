import Logging

/// The worker's HTTP client for its endpoint, rebuilt when the URL changes or when the
/// host, resolved and checked again every `resolveInterval`, moves to another address.
struct EndpointConnection {
    private let configuration: WebhookDispatcherConfiguration
    private var current: EndpointSender?
    private var refusal: (url: String, error: WebhookError)?
    private var checkedAt: ContinuousClock.Instant?
    private var retired: [EndpointSender] = []

    init(configuration: WebhookDispatcherConfiguration) {
        self.configuration = configuration
    }

    /// The sender for `url`, or why the URL or its addresses are refused.
    mutating func sender(for url: String, logger: Logger) async -> Result<EndpointSender, WebhookError> {
        let now = ContinuousClock.now
        let fresh = checkedAt.map { now - $0 < configuration.resolveInterval } ?? false
        if fresh, let current, current.endpointURL == url { return .success(current) }
        if fresh, let refusal, refusal.url == url { return .failure(refusal.error) }
        checkedAt = now
        do {
            let parts = try DestinationRules.validate(url: url)
            let destination = try await DestinationResolver.resolve(host: parts.host, port: parts.port, rules: configuration.destinations)
            refusal = nil
            if let current, current.endpointURL == url, current.destination == destination { return .success(current) }
            if let current { retired.append(current) }
            let sender = EndpointSender(
                url: url, destination: destination, concurrency: configuration.concurrencyPerEndpoint,
                requestTimeout: configuration.requestTimeout, responseBodyCap: configuration.responseBodyCap
            )
            current = sender
            return .success(sender)
        } catch {
            let webhookError = error as? WebhookError ?? WebhookError(code: .destinationRefused, message: "\(error)")
            if refusal?.error.message != webhookError.message {
                logger.warning("webhook destination refused: \(webhookError.message)")
            }
            refusal = (url, webhookError)
            if let current { retired.append(current) }
            current = nil
            return .failure(webhookError)
        }
    }

    /// Moves every client to the retired list (they may still carry requests).
    mutating func retireAll() {
        if let current { retired.append(current) }
        current = nil
    }

    /// Shuts every client down; call when no request is in flight.
    mutating func shutdownAll() async {
        retireAll()
        for sender in retired { await sender.shutdown() }
        retired = []
    }
}
