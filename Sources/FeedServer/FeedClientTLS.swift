import NIOCore
import NIOSSL

/// TLS for a feed client (`vigil feed send|bench --tls`): the CA that signed the server's
/// certificate, and the client's own certificate and key for mutual TLS.
public struct FeedClientTLS: Sendable {
    private let context: NIOSSLContext

    /// Reads the files. `caPath` nil trusts the system's roots; `certificatePath` and
    /// `keyPath` (both or neither) present a client certificate.
    public init(caPath: String?, certificatePath: String?, keyPath: String?) throws(FeedServerError) {
        var tls = TLSConfiguration.makeClientConfiguration()
        tls.minimumTLSVersion = .tlsv12
        do {
            if let caPath {
                let roots = try NIOSSLCertificate.fromPEMFile(caPath)
                guard !roots.isEmpty else { throw FeedServerError(code: .tlsConfiguration, message: "--tls-ca \(caPath) holds no PEM certificate") }
                tls.trustRoots = .certificates(roots)
            }
            switch (certificatePath, keyPath) {
            case (let certificatePath?, let keyPath?):
                tls.certificateChain = try NIOSSLCertificate.fromPEMFile(certificatePath).map { .certificate($0) }
                tls.privateKey = .privateKey(try NIOSSLPrivateKey(file: keyPath, format: .pem))
            case (nil, nil):
                break
            default:
                throw FeedServerError(code: .tlsConfiguration, message: "give --tls-cert and --tls-key together (the client certificate and its key)")
            }
            context = try NIOSSLContext(configuration: tls)
        } catch let error as FeedServerError {
            throw error
        } catch {
            throw FeedServerError(
                code: .tlsConfiguration, message: "cannot use the client TLS files (--tls-ca, --tls-cert, --tls-key): \(error); give PEM files")
        }
    }

    /// Adds the TLS handler for a connection to `host` (checked against the server's
    /// certificate: a name by SNI, an IP address against its IP entries).
    public func addHandler(to channel: any Channel, host: String) throws {
        let isAddress = (try? SocketAddress(ipAddress: host, port: 0)) != nil
        let handler = try NIOSSLClientHandler(context: context, serverHostname: isAddress ? nil : host)
        try channel.pipeline.syncOperations.addHandler(handler)
    }
}
