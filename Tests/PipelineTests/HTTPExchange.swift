import Foundation

#if canImport(Glibc)
import Glibc
#endif

/// One HTTP/1.1 request on a fresh loopback connection (`Connection: close`) and its
/// response, read until the body is complete; for a streamed (chunked) response, only
/// the head, then the connection is closed.
struct HTTPExchange: Sendable {
    var status: Int
    /// Header names lower-cased.
    var headers: [String: String]
    var body: String

    /// `send` on a thread of its own. On two cores Swift's cooperative pool has two threads,
    /// and a `recv` waiting on one of them starves a server under test in this process: a
    /// loaded machine then sees it answer after the receive timeout.
    static func offPool(
        port: Int, method: String = "GET", path: String, headers: [String] = [], body: String = ""
    ) async throws -> HTTPExchange {
        try await withCheckedThrowingContinuation { continuation in
            Thread.detachNewThread {
                continuation.resume(with: Result { try send(port: port, method: method, path: path, headers: headers, body: body) })
            }
        }
    }

    static func send(
        port: Int, method: String = "GET", path: String, headers: [String] = [], body: String = ""
    ) throws -> HTTPExchange {
        let fd = socket(AF_INET, Int32(SOCK_STREAM.rawValue), 0)
        guard fd >= 0 else { throw HarnessError(message: "socket() failed: errno \(errno)") }
        defer { close(fd) }
        var timeout = timeval(tv_sec: 5, tv_usec: 0)
        setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &timeout, socklen_t(MemoryLayout<timeval>.size))
        var address = sockaddr_in()
        address.sin_family = sa_family_t(AF_INET)
        address.sin_port = UInt16(port).bigEndian
        address.sin_addr.s_addr = inet_addr("127.0.0.1")
        let connected = withUnsafePointer(to: &address) {
            $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { connect(fd, $0, socklen_t(MemoryLayout<sockaddr_in>.size)) }
        }
        guard connected == 0 else { throw HarnessError(message: "cannot connect to port \(port)") }
        var head = "\(method) \(path) HTTP/1.1\r\nHost: 127.0.0.1:\(port)\r\nConnection: close\r\n"
        for header in headers { head += header + "\r\n" }
        if method != "GET" { head += "Content-Length: \(body.utf8.count)\r\n" }
        let request = Array((head + "\r\n" + body).utf8)
        var sent = 0
        while sent < request.count {
            let n = request[sent...].withUnsafeBytes { Glibc.send(fd, $0.baseAddress, $0.count, Int32(MSG_NOSIGNAL)) }
            // The server may answer (413) and close before reading a large body.
            if n <= 0 { break }
            sent += n
        }
        var response: [UInt8] = []
        var chunk = [UInt8](repeating: 0, count: 16_384)
        while true {
            if let parsed = parse(response) { return parsed }
            let n = chunk.withUnsafeMutableBytes { recv(fd, $0.baseAddress, $0.count, 0) }
            if n <= 0 { break }
            response.append(contentsOf: chunk[0..<n])
        }
        guard let parsed = parse(response, atEnd: true) else {
            throw HarnessError(message: "no HTTP response from \(method) \(path): \(String(decoding: response, as: UTF8.self))")
        }
        return parsed
    }

    private static func parse(_ bytes: [UInt8], atEnd: Bool = false) -> HTTPExchange? {
        let text = String(decoding: bytes, as: UTF8.self)
        guard let split = text.range(of: "\r\n\r\n") else { return nil }
        let lines = text[..<split.lowerBound].split(separator: "\r\n")
        guard let statusLine = lines.first, let status = Int(statusLine.split(separator: " ").dropFirst().first ?? "") else { return nil }
        var headers: [String: String] = [:]
        for line in lines.dropFirst() {
            guard let colon = line.firstIndex(of: ":") else { continue }
            headers[line[..<colon].lowercased()] = line[line.index(after: colon)...].trimmingCharacters(in: .whitespaces)
        }
        let body = String(text[split.upperBound...])
        if headers["transfer-encoding"] == "chunked" { return HTTPExchange(status: status, headers: headers, body: body) }
        if let length = headers["content-length"].flatMap(Int.init) {
            guard body.utf8.count >= length else { return nil }
            return HTTPExchange(status: status, headers: headers, body: body)
        }
        return atEnd ? HTTPExchange(status: status, headers: headers, body: body) : nil
    }

    /// The body's `{"error":{"code","message"}}`, when it has that shape.
    var error: (code: String, message: String)? {
        guard let object = try? JSONSerialization.jsonObject(with: Data(body.utf8)) as? [String: Any],
            let error = object["error"] as? [String: Any], let code = error["code"] as? String, let message = error["message"] as? String
        else { return nil }
        return (code, message)
    }
}
