import ArgumentParser
import FeedServer

/// `--tls`, `--tls-ca`, `--tls-cert`, `--tls-key` of the feed clients (`vigil feed send|bench`).
struct FeedTLSOptions: ParsableArguments {
    @Flag(help: "Connect with TLS (implied by --tls-ca, --tls-cert and --tls-key).")
    var tls = false
    @Option(name: .customLong("tls-ca"), help: "CA certificate (PEM) that signed the server's certificate (default: the system's roots).")
    var tlsCA: String?
    @Option(name: .customLong("tls-cert"), help: "Client certificate (PEM) for mutual TLS.")
    var tlsCert: String?
    @Option(name: .customLong("tls-key"), help: "Private key (PEM) of --tls-cert.")
    var tlsKey: String?

    /// The client TLS setup, nil for plain TCP; a bad file ends the command with its name.
    func make(command: String) throws -> FeedClientTLS? {
        guard tls || tlsCA != nil || tlsCert != nil || tlsKey != nil else { return nil }
        do {
            return try FeedClientTLS(caPath: tlsCA, certificatePath: tlsCert, keyPath: tlsKey)
        } catch {
            throw CleanExit.failure("vigil \(command): \(error.message)")
        }
    }
}
