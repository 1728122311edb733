import NIOSSL
import Synchronization

/// How the feed is carried: plain TCP, TLS, or TLS with client certificates (mutual TLS).
public enum FeedTransport: String, Sendable {
    /// Plain TCP: for loopback and tests; anyone who reaches the port can send.
    case tcp
    /// TLS: the server proves who it is and the line is private; any client may send.
    case tls
    /// Mutual TLS: only clients with a certificate from the configured CA may send, and
    /// each session records the certificate's subject.
    case mtls
}

/// The feed's TLS files (PEM). Read at start and again on SIGHUP.
public struct FeedTLSConfiguration: Sendable, Hashable {
    /// The server certificate (chain), PEM.
    public var certificatePath: String
    /// The server's private key, PEM.
    public var privateKeyPath: String
    /// The CA (PEM, one or more certificates) that client certificates must chain to;
    /// nil accepts clients without certificates.
    public var clientCAPath: String?

    /// Creates a configuration.
    public init(certificatePath: String, privateKeyPath: String, clientCAPath: String? = nil) {
        self.certificatePath = certificatePath
        self.privateKeyPath = privateKeyPath
        self.clientCAPath = clientCAPath
    }

    /// `.mtls` with a client CA, `.tls` without.
    public var transport: FeedTransport { clientCAPath == nil ? .tls : .mtls }

    /// Reads the files and builds the TLS context (TLS 1.2 at least); the error names the
    /// file that could not be used and says what is expected.
    public func makeContext() throws(FeedServerError) -> NIOSSLContext {
        let chain: [NIOSSLCertificate]
        do {
            chain = try NIOSSLCertificate.fromPEMFile(certificatePath)
        } catch {
            throw FeedServerError(
                code: .tlsConfiguration,
                message: "cannot read the feed certificate --tls-cert \(certificatePath) (\(error)); give a PEM certificate chain")
        }
        guard !chain.isEmpty else {
            throw FeedServerError(code: .tlsConfiguration, message: "--tls-cert \(certificatePath) holds no PEM certificate")
        }
        let key: NIOSSLPrivateKey
        do {
            key = try NIOSSLPrivateKey(file: privateKeyPath, format: .pem)
        } catch {
            throw FeedServerError(
                code: .tlsConfiguration,
                message: "cannot read the feed private key --tls-key \(privateKeyPath) (\(error)); give an unencrypted PEM key")
        }
        var tls = TLSConfiguration.makeServerConfiguration(certificateChain: chain.map { .certificate($0) }, privateKey: .privateKey(key))
        tls.minimumTLSVersion = .tlsv12
        if let clientCAPath {
            let roots: [NIOSSLCertificate]
            do {
                roots = try NIOSSLCertificate.fromPEMFile(clientCAPath)
            } catch {
                throw FeedServerError(
                    code: .tlsConfiguration,
                    message:
                        "cannot read the client CA --tls-client-ca \(clientCAPath) (\(error)); give the PEM certificate(s) of the CA that signs client certificates"
                )
            }
            guard !roots.isEmpty else {
                throw FeedServerError(code: .tlsConfiguration, message: "--tls-client-ca \(clientCAPath) holds no PEM certificate")
            }
            // Required and verified against this CA only (never the system roots); no
            // hostname check, since clients are identified by their subject instead.
            tls.certificateVerification = .noHostnameVerification
            tls.trustRoots = .certificates(roots)
            tls.sendCANameList = true
        }
        do {
            return try NIOSSLContext(configuration: tls)
        } catch {
            throw FeedServerError(
                code: .tlsConfiguration,
                message:
                    "the feed certificate \(certificatePath) and key \(privateKeyPath) cannot be used together (\(error)); check that the key belongs to the certificate"
            )
        }
    }
}

/// The TLS context new feed connections are given; replaced whole on reload.
final class TLSContextBox: Sendable {
    private let context: Mutex<NIOSSLContext>

    init(_ context: NIOSSLContext) {
        self.context = Mutex(context)
    }

    var current: NIOSSLContext {
        get { context.withLock { $0 } }
        set { context.withLock { $0 = newValue } }
    }
}
