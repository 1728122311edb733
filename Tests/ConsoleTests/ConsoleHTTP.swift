import AsyncHTTPClient
import Foundation
import NIOCore
import NIOHTTP1

/// A plain HTTP client for the console's endpoints: no redirects followed, no cookies kept
/// (each test says which cookie it sends), so every hop is checked.
struct ConsoleHTTP {
    struct Reply {
        var status: Int
        var headers: HTTPHeaders
        var body: String
        /// The first `Set-Cookie` value for `name`, as sent (attributes included).
        func setCookie(_ name: String) -> String? {
            headers["set-cookie"].first { $0.hasPrefix(name + "=") }
        }
        /// The cookie's value from `Set-Cookie`.
        func cookieValue(_ name: String) -> String? {
            setCookie(name).flatMap { $0.split(separator: ";").first }.map { String($0.dropFirst(name.count + 1)) }
        }
    }

    let port: Int
    static let client = HTTPClient(eventLoopGroupProvider: .singleton, configuration: .init(redirectConfiguration: .disallow))

    func get(_ path: String, session: String? = nil) async throws -> Reply {
        try await send(.GET, path, session: session, form: nil, origin: nil)
    }

    func post(_ path: String, session: String? = nil, form: [(String, String)], origin: String? = nil) async throws -> Reply {
        try await send(.POST, path, session: session, form: form, origin: origin)
    }

    func send(_ method: HTTPMethod, _ path: String, session: String?, form: [(String, String)]?, origin: String?) async throws -> Reply {
        var request = HTTPClientRequest(url: "http://127.0.0.1:\(port)\(path)")
        request.method = method
        if let session { request.headers.add(name: "Cookie", value: "vigil_session=\(session)") }
        if let origin { request.headers.add(name: "Origin", value: origin) }
        if let form {
            let allowed = CharacterSet.alphanumerics.union(.init(charactersIn: "-._~"))
            let body = form.map { "\($0.0)=\($0.1.addingPercentEncoding(withAllowedCharacters: allowed) ?? "")" }.joined(separator: "&")
            request.headers.add(name: "Content-Type", value: "application/x-www-form-urlencoded")
            request.body = .bytes(ByteBuffer(string: body))
        }
        let response = try await Self.client.execute(request, timeout: .seconds(30))
        let body = try await response.body.collect(upTo: 4 * 1024 * 1024)
        return Reply(status: Int(response.status.code), headers: response.headers, body: String(buffer: body))
    }

    /// Signs in with `token` and returns the session id from the cookie.
    func signIn(token: String) async throws -> String {
        let reply = try await post("/console/sign-in", form: [("token", token), ("next", "/console")])
        guard reply.status == 303, let session = reply.cookieValue("vigil_session"), !session.isEmpty else {
            throw ConsoleTestError(description: "sign-in failed: \(reply.status) \(reply.body)")
        }
        return session
    }

    /// The CSRF token a page's forms carry.
    static func csrf(in html: String) -> String? {
        guard let range = html.range(of: "name=\"csrf\" value=\"") else { return nil }
        let rest = html[range.upperBound...]
        return rest.firstIndex(of: "\"").map { String(rest[..<$0]) }
    }
}
