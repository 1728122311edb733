import Foundation

/// Certificates made for one test with openssl in a temporary folder: a CA, a server
/// certificate for 127.0.0.1/localhost, a client certificate, an expired client
/// certificate, and a client certificate from a CA the server does not know.
public struct TestCertificates: Sendable {
    /// The temporary folder holding the files.
    public let folder: URL
    /// The path of one of the files (`ca.pem`, `server.pem`, `client.key`, ...).
    public func path(_ name: String) -> String { folder.appendingPathComponent(name).path }

    /// Makes every certificate with openssl.
    public static func make() throws -> TestCertificates {
        let folder = FileManager.default.temporaryDirectory.appendingPathComponent("vigil-tls-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: folder, withIntermediateDirectories: true)
        let certificates = TestCertificates(folder: folder)
        try certificates.authority("ca", subject: "/CN=Vigil Test CA")
        try certificates.authority("other-ca", subject: "/CN=Unknown CA")
        try certificates.issue("server", subject: "/CN=localhost", by: "ca", days: 2, extensions: "subjectAltName=IP:127.0.0.1,DNS:localhost")
        try certificates.issue("client", subject: "/O=Bank A/CN=switch-a", by: "ca", days: 2)
        try certificates.issue("expired", subject: "/O=Bank A/CN=switch-old", by: "ca", days: -1)
        try certificates.issue("stranger", subject: "/O=Elsewhere/CN=switch-x", by: "other-ca", days: 2)
        try certificates.issue("server2", subject: "/CN=localhost", by: "other-ca", days: 2, extensions: "subjectAltName=IP:127.0.0.1,DNS:localhost")
        return certificates
    }

    /// Deletes the folder.
    public func remove() { try? FileManager.default.removeItem(at: folder) }

    private func authority(_ name: String, subject: String) throws {
        try openssl([
            "req", "-x509", "-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:P-256", "-nodes", "-keyout", path("\(name).key"),
            "-out", path("\(name).pem"), "-subj", subject, "-days", "2",
        ])
    }

    private func issue(_ name: String, subject: String, by ca: String, days: Int, extensions: String? = nil) throws {
        try openssl([
            "req", "-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:P-256", "-nodes", "-keyout", path("\(name).key"),
            "-out", path("\(name).csr"), "-subj", subject,
        ])
        var arguments = [
            "x509", "-req", "-in", path("\(name).csr"), "-CA", path("\(ca).pem"), "-CAkey", path("\(ca).key"),
            "-CAcreateserial", "-out", path("\(name).pem"), "-days", "\(days)",
        ]
        if let extensions {
            let file = path("\(name).ext")
            try Data(extensions.utf8).write(to: URL(fileURLWithPath: file))
            arguments += ["-extfile", file]
        }
        try openssl(arguments)
    }

    private func openssl(_ arguments: [String]) throws {
        let process = Process()
        process.executableURL = URL(fileURLWithPath: "/usr/bin/env")
        process.arguments = ["openssl"] + arguments
        process.standardOutput = FileHandle.nullDevice
        let errors = Pipe()
        process.standardError = errors
        try process.run()
        let output = errors.fileHandleForReading.readDataToEndOfFile()
        process.waitUntilExit()
        guard process.terminationStatus == 0 else {
            throw OpenSSLFailed(message: "openssl \(arguments.joined(separator: " ")): \(String(decoding: output, as: UTF8.self))")
        }
    }

    struct OpenSSLFailed: Error, CustomStringConvertible {
        var message: String
        var description: String { message }
    }
}
