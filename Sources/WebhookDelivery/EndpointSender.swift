import AsyncHTTPClient
import Foundation
import NIOCore
import NIOHTTP1
import VigilCore

/// One endpoint's HTTP client: its own connection pool, pinned to the vetted address,
/// redirects never followed, one deadline for the whole attempt (connect, send, response
/// head and body) and a cap on the response body read.
final class EndpointSender: Sendable {
    let endpointURL: String
    let destination: DestinationResolver.Resolved
    private let client: HTTPClient
    private let requestTimeout: Duration
    private let responseBodyCap: Int

    init(url: String, destination: DestinationResolver.Resolved, concurrency: Int, requestTimeout: Duration, responseBodyCap: Int) {
        self.endpointURL = url
        self.destination = destination
        self.requestTimeout = requestTimeout
        self.responseBodyCap = responseBodyCap
        var configuration = HTTPClient.Configuration(
            redirectConfiguration: .disallow,
            timeout: .init(connect: .seconds(min(5, Int64(max(1, requestTimeout.seconds)))), read: Self.timeAmount(requestTimeout)),
            connectionPool: .init(idleTimeout: .seconds(60), concurrentHTTP1ConnectionsPerHostSoftLimit: max(1, concurrency))
        )
        // Connect to the address that passed the SSRF check, not to a fresh DNS answer.
        configuration.dnsOverride = [destination.host: destination.address]
        self.client = HTTPClient(eventLoopGroupProvider: .singleton, configuration: configuration)
    }

    /// Sends one attempt with fresh timestamp and signatures; never throws.
    func send(messageID: String, body: String, secrets: [WebhookSecret], now: Timestamp) async -> DeliveryOutcome {
        var request = HTTPClientRequest(url: endpointURL)
        request.method = .POST
        let bytes = Array(body.utf8)
        request.headers.add(name: "content-type", value: "application/json")
        request.headers.add(name: "user-agent", value: "Vigil-Webhooks/\(VigilVersion.current)")
        for header in WebhookSigner.headers(secrets: secrets, messageID: messageID, timestamp: now.secondsSinceEpoch, body: bytes) {
            request.headers.add(name: header.name, value: header.value)
        }
        request.body = .bytes(ByteBuffer(bytes: bytes))
        let client = self.client
        let cap = responseBodyCap
        let sending = request
        do {
            // AsyncHTTPClient's deadline ends once the response head arrives, and its read
            // timeout restarts with every byte: an endpoint trickling its body would hold
            // the attempt (and shutdown) forever. So the body is read under the same
            // deadline, enforced here for the whole attempt.
            let timeout = requestTimeout
            return try await Self.within(timeout) {
                let response = try await client.execute(sending, deadline: .now() + Self.timeAmount(timeout))
                // Read at most a small prefix: a receiver's answer is never needed, and a huge
                // or endless body must not hold the worker or its memory.
                var read = 0
                for try await chunk in response.body {
                    read += chunk.readableBytes
                    if read >= cap { break }
                }
                let retryAfter = response.headers.first(name: "retry-after").flatMap { Self.parseRetryAfter($0, now: now) }
                return .response(status: Int(response.status.code), retryAfter: retryAfter)
            }
        } catch is AttemptTimedOut {
            return .timeout
        } catch let error as HTTPClientError {
            if error == .deadlineExceeded || error == .readTimeout || error == .connectTimeout {
                return .timeout
            }
            return .transportError("HTTP client: \(error)")
        } catch is CancellationError {
            return .transportError("cancelled")
        } catch {
            return .transportError("\(error)")
        }
    }

    /// The attempt's deadline passed (connect, send, head or body).
    struct AttemptTimedOut: Error {}

    /// Runs `body`, cancelling it and throwing `AttemptTimedOut` when `timeout` passes
    /// first. Cancelling the request closes its connection, so nothing lingers.
    static func within<T: Sendable>(_ timeout: Duration, _ body: @escaping @Sendable () async throws -> T) async throws -> T {
        try await withThrowingTaskGroup(of: T?.self) { group in
            group.addTask { try await body() }
            group.addTask {
                try await Task.sleep(for: timeout)
                return nil
            }
            defer { group.cancelAll() }
            guard let first = try await group.next(), let value = first else { throw AttemptTimedOut() }
            return value
        }
    }

    func shutdown() async {
        try? await client.shutdown()
    }

    static func timeAmount(_ duration: Duration) -> TimeAmount {
        .nanoseconds(Int64(clamping: duration.components.seconds) * 1_000_000_000 + duration.components.attoseconds / 1_000_000_000)
    }

    /// `Retry-After` as delta-seconds or an IMF-fixdate (RFC 9110); nil when neither.
    static func parseRetryAfter(_ value: String, now: Timestamp) -> Duration? {
        let trimmed = value.trimmingCharacters(in: .whitespaces)
        if let seconds = Int64(trimmed) { return seconds >= 0 ? .seconds(seconds) : nil }
        let formatter = DateFormatter()
        formatter.locale = Locale(identifier: "en_US_POSIX")
        formatter.timeZone = TimeZone(identifier: "GMT")
        formatter.dateFormat = "EEE, dd MMM yyyy HH:mm:ss zzz"
        guard let date = formatter.date(from: trimmed) else { return nil }
        let delta = Int64(date.timeIntervalSince1970) - now.secondsSinceEpoch
        return .seconds(max(0, delta))
    }
}
