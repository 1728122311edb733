import Foundation

/// One feed server a client may send to.
struct FeedAddress: Sendable, CustomStringConvertible {
    var host: String
    var port: Int
    var description: String { "\(host):\(port)" }

    /// `a,b:7500,c`: each host with its own port or `defaultPort`; the nodes of an HA pair.
    static func parse(_ list: String, defaultPort: Int, command: String) throws -> [FeedAddress] {
        var addresses: [FeedAddress] = []
        for part in list.split(separator: ",").map({ $0.trimmingCharacters(in: .whitespaces) }) where !part.isEmpty {
            let pieces = part.split(separator: ":")
            // One colon is host:port; none, or an IPv6 address, is a host on the default port.
            if pieces.count == 2 {
                guard let port = Int(pieces[1]), (1...65_535).contains(port) else {
                    throw CleanExit.failure("vigil \(command): \(part) in --host does not end in a TCP port (host:1-65535)")
                }
                addresses.append(FeedAddress(host: String(pieces[0]), port: port))
            } else {
                addresses.append(FeedAddress(host: part, port: defaultPort))
            }
        }
        guard !addresses.isEmpty else {
            throw CleanExit.failure("vigil \(command): --host names no address (give host or host:port, comma-separated)")
        }
        return addresses
    }
}
