import Foundation
import NIOPosix

#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// Resolves an endpoint's host and picks an address the ``DestinationRules`` allow.
///
/// The dispatcher then pins its HTTP client to that address (AsyncHTTPClient's
/// `dnsOverride`), so a second DNS answer cannot redirect the request to a private
/// address after the check (DNS rebinding); TLS still verifies the host name.
public enum DestinationResolver {
    /// A vetted destination.
    public struct Resolved: Sendable, Hashable {
        /// The host as written in the URL.
        public var host: String
        /// The numeric address to connect to.
        public var address: String
    }

    /// Resolves `host` (off the cooperative pool) and returns the first allowed address,
    /// or throws ``WebhookError/Code/destinationRefused`` naming what was refused.
    public static func resolve(host: String, port: Int, rules: DestinationRules) async throws -> Resolved {
        let candidates = try await NIOThreadPool.singleton.runIfActive { try lookup(host: host, port: port) }
        guard !candidates.isEmpty else {
            throw WebhookError(code: .destinationRefused, message: "\(host) did not resolve to any address")
        }
        var refused: [String] = []
        for candidate in candidates {
            if rules.allows(candidate.kind) { return Resolved(host: host, address: candidate.address) }
            refused.append("\(candidate.address) (\(candidate.kind.rawValue))")
        }
        throw WebhookError(
            code: .destinationRefused,
            message:
                "refused to deliver to \(host): it resolves only to \(refused.joined(separator: ", ")), which the destination rules do not allow (see allowLoopback/allowPrivate)"
        )
    }

    /// getaddrinfo, returning numeric addresses with their class, in the resolver's order.
    static func lookup(host: String, port: Int) throws -> [(address: String, kind: DestinationRules.AddressClass)] {
        var hints = addrinfo()
        hints.ai_family = AF_UNSPEC
        #if canImport(Glibc)
        hints.ai_socktype = Int32(SOCK_STREAM.rawValue)
        #else
        hints.ai_socktype = SOCK_STREAM
        #endif
        var list: UnsafeMutablePointer<addrinfo>?
        let status = getaddrinfo(host, String(port), &hints, &list)
        guard status == 0 else {
            let reason = gai_strerror(status).map { String(cString: $0) } ?? "error \(status)"
            throw WebhookError(code: .destinationRefused, message: "cannot resolve \(host): \(reason)")
        }
        defer { freeaddrinfo(list) }
        var results: [(String, DestinationRules.AddressClass)] = []
        var cursor = list
        while let entry = cursor?.pointee {
            cursor = entry.ai_next
            guard let sockaddr = entry.ai_addr else { continue }
            if entry.ai_family == AF_INET {
                let bytes = sockaddr.withMemoryRebound(to: sockaddr_in.self, capacity: 1) { pointer in
                    withUnsafeBytes(of: pointer.pointee.sin_addr) { Array($0) }
                }
                results.append((bytes.map(String.init).joined(separator: "."), DestinationRules.classify(ipv4: bytes)))
            } else if entry.ai_family == AF_INET6 {
                var address = sockaddr.withMemoryRebound(to: sockaddr_in6.self, capacity: 1) { $0.pointee.sin6_addr }
                let bytes = withUnsafeBytes(of: address) { Array($0) }
                var buffer = [CChar](repeating: 0, count: Int(INET6_ADDRSTRLEN))
                guard inet_ntop(AF_INET6, &address, &buffer, socklen_t(buffer.count)) != nil else { continue }
                let text = String(decoding: buffer.prefix { $0 != 0 }.map { UInt8(bitPattern: $0) }, as: UTF8.self)
                results.append((text, DestinationRules.classify(ipv6: bytes)))
            }
        }
        var seen = Set<String>()
        return results.filter { seen.insert($0.0).inserted }
    }
}
