/// What one HTTP attempt came to, as the policy sees it.
public enum DeliveryOutcome: Sendable, Hashable {
    /// The endpoint answered; `retryAfter` is its parsed `Retry-After`, if any.
    case response(status: Int, retryAfter: Duration?)
    /// No response within the request timeout.
    case timeout
    /// Connecting or sending failed (refused, reset, TLS, DNS).
    case transportError(String)
    /// The destination was refused by the SSRF rules or the URL is not allowed.
    case refused(String)

    /// A 2xx response.
    public var isSuccess: Bool {
        if case .response(let status, _) = self { return (200..<300).contains(status) }
        return false
    }

    /// The HTTP status, when there was a response.
    public var statusCode: Int? {
        if case .response(let status, _) = self { return status }
        return nil
    }

    /// A short description for `webhook_deliveries.error` (nil for 2xx).
    public var errorText: String? {
        switch self {
        case .response(let status, _):
            if (200..<300).contains(status) { return nil }
            if (300..<400).contains(status) { return "HTTP \(status): redirects are not followed" }
            return "HTTP \(status)"
        case .timeout: return "timed out: no complete response within the request timeout"
        case .transportError(let text): return text
        case .refused(let text): return text
        }
    }

    /// 429, 502 and 504 ask the sender to slow down.
    public var asksToSlowDown: Bool {
        if case .response(let status, _) = self { return status == 429 || status == 502 || status == 504 }
        return false
    }
}
