import Foundation

/// Which destinations webhooks may reach. Endpoint URLs are operator input and a classic
/// SSRF hole, so by default only public addresses are allowed; tests and the demo allow
/// loopback explicitly.
public struct DestinationRules: Sendable, Hashable {
    /// Allow 127.0.0.0/8 and ::1.
    public var allowLoopback: Bool
    /// Allow RFC 1918, carrier-grade NAT (100.64/10) and IPv6 unique-local (fc00::/7) addresses.
    public var allowPrivate: Bool
    /// Allow link-local 169.254/16 (cloud metadata lives there) and fe80::/10.
    public var allowLinkLocal: Bool

    /// Creates rules; the default allows public addresses only.
    public init(allowLoopback: Bool = false, allowPrivate: Bool = false, allowLinkLocal: Bool = false) {
        self.allowLoopback = allowLoopback
        self.allowPrivate = allowPrivate
        self.allowLinkLocal = allowLinkLocal
    }

    /// Public addresses only.
    public static let publicOnly = DestinationRules()
    /// Public and loopback addresses (tests, the demo).
    public static let allowingLoopback = DestinationRules(allowLoopback: true)

    /// The kind of an address.
    public enum AddressClass: String, Sendable, Hashable {
        case publicAddress = "public"
        case loopback
        case privateNetwork = "private"
        case linkLocal = "link-local"
        /// Unspecified, multicast, broadcast, documentation/reserved ranges: never a webhook.
        case reserved
    }

    /// Whether an address of class `kind` may be reached.
    public func allows(_ kind: AddressClass) -> Bool {
        switch kind {
        case .publicAddress: true
        case .loopback: allowLoopback
        case .privateNetwork: allowPrivate
        case .linkLocal: allowLinkLocal
        case .reserved: false
        }
    }

    /// Checks the URL's form: absolute `http` or `https` with a host, no credentials.
    public static func validate(url text: String) throws -> (scheme: String, host: String, port: Int) {
        guard let components = URLComponents(string: text), let scheme = components.scheme?.lowercased() else {
            throw WebhookError(code: .invalidURL, message: "\(text) is not an absolute URL")
        }
        guard scheme == "http" || scheme == "https" else {
            throw WebhookError(code: .invalidURL, message: "only http and https webhook URLs are allowed, not \(scheme)")
        }
        guard var host = components.host, !host.isEmpty else {
            throw WebhookError(code: .invalidURL, message: "\(text) has no host")
        }
        guard components.user == nil, components.password == nil else {
            throw WebhookError(code: .invalidURL, message: "webhook URLs carry no user or password; authenticate with the signature")
        }
        if host.hasPrefix("["), host.hasSuffix("]") { host = String(host.dropFirst().dropLast()) }
        return (scheme, host, components.port ?? (scheme == "https" ? 443 : 80))
    }

    /// Classifies an IPv4 address given as four bytes.
    public static func classify(ipv4 b: [UInt8]) -> AddressClass {
        guard b.count == 4 else { return .reserved }
        switch (b[0], b[1]) {
        case (127, _): return .loopback
        case (10, _), (192, 168): return .privateNetwork
        case (172, 16...31): return .privateNetwork
        case (100, 64...127): return .privateNetwork
        case (169, 254): return .linkLocal
        case (0, _), (224...255, _): return .reserved
        case (192, 0) where b[2] == 0 || b[2] == 2: return .reserved
        case (198, 18...19): return .reserved
        case (198, 51) where b[2] == 100, (203, 0) where b[2] == 113: return .reserved
        default: return .publicAddress
        }
    }

    /// Classifies an IPv6 address given as sixteen bytes.
    public static func classify(ipv6 b: [UInt8]) -> AddressClass {
        guard b.count == 16 else { return .reserved }
        let zeroPrefix = b[0..<10].allSatisfy { $0 == 0 }
        if zeroPrefix && b[10] == 0xFF && b[11] == 0xFF { return classify(ipv4: Array(b[12..<16])) }  // ::ffff:a.b.c.d
        if b[0..<15].allSatisfy({ $0 == 0 }) { return b[15] == 1 ? .loopback : .reserved }  // ::1, ::
        // IPv4-compatible (::a.b.c.d, deprecated by RFC 4291 but still routed to the IPv4
        // address by some stacks): classed by the embedded address, so ::127.0.0.1 is loopback.
        if b[0..<12].allSatisfy({ $0 == 0 }) { return classify(ipv4: Array(b[12..<16])) }
        if b[0] == 0x00, b[1] == 0x64, b[2] == 0xFF, b[3] == 0x9B { return classify(ipv4: Array(b[12..<16])) }  // NAT64
        if b[0] == 0xFE && (b[1] & 0xC0) == 0x80 { return .linkLocal }
        if (b[0] & 0xFE) == 0xFC { return .privateNetwork }
        if b[0] == 0xFF { return .reserved }
        if b[0] == 0x20, b[1] == 0x01, b[2] == 0x0D, b[3] == 0xB8 { return .reserved }  // documentation
        return .publicAddress
    }
}
