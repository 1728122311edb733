import Access
import Cases
import Foundation
import HTTPAPI
import Hummingbird
import NIOCore
import PostgresStore
import VigilCore

/// The investigator API (`/api/v1`, docs/api.md, docs/api/openapi.yaml): alerts and cases
/// to read (viewer), cases to work (analyst). Every answer is JSON; every refusal is a JSON
/// error with a stable code. Queries run on a small pool of their own, so investigator
/// traffic waits for a connection rather than taking the writer's.
public struct InvestigatorRoutes: Sendable {
    let pool: PostgresPool
    let access: AccessStore

    /// Every route with the least role it needs (the OpenAPI test checks the document
    /// against this list, so a route cannot be added without being documented).
    public static let routes: [(method: String, path: String, role: Role)] = [
        ("GET", "/api/v1/alerts", .viewer), ("GET", "/api/v1/alerts/{id}", .viewer),
        ("GET", "/api/v1/cases", .viewer), ("GET", "/api/v1/cases/{id}", .viewer),
        ("POST", "/api/v1/cases/{id}/assign", .analyst), ("POST", "/api/v1/cases/{id}/notes", .analyst),
        ("POST", "/api/v1/cases/{id}/status", .analyst), ("POST", "/api/v1/cases/{id}/close", .analyst),
        ("GET", "/api/v1/transactions/{id}", .viewer), ("GET", "/api/v1/accounts/{id}/activity", .viewer),
        ("GET", "/api/v1/rules", .viewer),
    ]

    func add(to router: Router<APIRequestContext>) {
        let viewer = router.group(requiring: .viewer, access: access)
        viewer.get("/api/v1/alerts") { request, _ in
            try await json { try await CaseStore.alerts(try ListFilter(parameters: Self.query(request)), on: $0).json }
        }
        viewer.get("/api/v1/alerts/:id") { _, context in
            let id = try Self.id(context)
            return try await json { try await CaseStore.alert(id: id, on: $0) }
        }
        viewer.get("/api/v1/cases") { request, _ in
            try await json { try await CaseStore.cases(try ListFilter(parameters: Self.query(request)), on: $0).json }
        }
        viewer.get("/api/v1/cases/:id") { _, context in
            let id = try Self.id(context)
            return try await json { try await CaseStore.case(id: id, on: $0) }
        }
        viewer.get("/api/v1/transactions/:id") { _, context in
            let id = try context.parameters.require("id")
            return try await json { try await CaseStore.transaction(id: id, on: $0) }
        }
        viewer.get("/api/v1/accounts/:id/activity") { request, context in
            let account = try context.parameters.require("id")
            let limit = try Self.limit(Self.query(request))
            return try await json { try await CaseStore.activity(account: account, limit: limit, on: $0) }
        }
        viewer.get("/api/v1/rules") { request, _ in
            let period = try Self.period(Self.query(request))
            return try await json { try await CaseStore.ruleFigures(from: period.from, to: period.to, on: $0) }
        }
        let analyst = router.group(requiring: .analyst, access: access)
        for action in ["assign", "notes", "status", "close"] {
            analyst.post("/api/v1/cases/:id/\(action)") { request, context in
                let id = try Self.id(context)
                let change = try await CaseRequestBody.change(action, request: request)
                let expected = try Self.ifMatch(request)
                let actor = context.actor
                return try await json {
                    try await CaseStore.apply(
                        change, toCase: id, expectedRevision: expected, by: actor.name, remoteAddress: actor.remoteAddress, on: $0)
                }
            }
        }
    }

    /// Runs `body` on a pooled connection and answers its JSON; case errors become their
    /// status, a database that cannot be reached 503.
    private func json(_ body: @Sendable (PostgresConnection) async throws -> JSON) async throws -> Response {
        let value: JSON
        do {
            value = try await pool.withConnection(body)
        } catch let error as CaseError {
            throw APIError(HTTPResponse.Status(code: error.status), code: error.code, message: error.message)
        } catch let error as PostgresError where error.isConnectionError {
            throw APIError(
                .serviceUnavailable, code: "database_unavailable", message: "PostgreSQL cannot be reached now; retry shortly")
        }
        var headers: HTTPFields = [.contentType: "application/json"]
        if case .object(let members) = value, let revision = members.first(where: { $0.0 == "revision" })?.1, case .int(let r) = revision {
            headers[.eTag] = "\"\(r)\""
        }
        return Response(status: .ok, headers: headers, body: ResponseBody(byteBuffer: ByteBuffer(string: value.text + "\n")))
    }

    static func query(_ request: Request) -> [(name: String, value: String)] {
        request.uri.queryParameters.map { (String($0.key), String($0.value)) }
    }

    static func id(_ context: APIRequestContext) throws -> Int64 {
        let text = try context.parameters.require("id")
        guard let id = Int64(text), id > 0 else {
            throw APIError(.badRequest, code: "invalid_id", message: "'\(text)' is not an id: ids are positive integers")
        }
        return id
    }

    static func limit(_ parameters: [(name: String, value: String)]) throws -> Int {
        var limit = 50
        for (name, value) in parameters {
            guard name == "limit" else {
                throw APIError(.badRequest, code: "unknown_filter", message: "unknown query parameter '\(name)'; this endpoint takes 'limit'")
            }
            guard let n = Int(value), (1...500).contains(n) else {
                throw APIError(.badRequest, code: "invalid_filter", message: "query parameter 'limit' is '\(value)'; expected a number from 1 to 500")
            }
            limit = n
        }
        return limit
    }

    /// `from`/`to` (RFC 3339); the last 7 days by default.
    static func period(_ parameters: [(name: String, value: String)]) throws -> (from: Timestamp, to: Timestamp) {
        var to = Timestamp.now()
        var from: Timestamp?
        for (name, value) in parameters {
            guard name == "from" || name == "to" else {
                throw APIError(.badRequest, code: "unknown_filter", message: "unknown query parameter '\(name)'; this endpoint takes 'from' and 'to'")
            }
            guard let time = RFC3339.parse(value) else {
                throw APIError(
                    .badRequest, code: "invalid_filter", message: "query parameter '\(name)' is '\(value)'; expected an RFC 3339 time")
            }
            if name == "from" { from = time } else { to = time }
        }
        let start = from ?? to.adding(microseconds: -7 * 86_400_000_000)
        guard start < to else { throw APIError(.badRequest, code: "invalid_filter", message: "'to' must be after 'from'") }
        return (start, to)
    }

    /// `If-Match: "7"` (the case's revision, as its ETag gave it), or nil.
    static func ifMatch(_ request: Request) throws -> Int64? {
        guard let header = request.headers[.ifMatch] else { return nil }
        let text = header.trimmingCharacters(in: .whitespaces).trimmingCharacters(in: CharacterSet(charactersIn: "\""))
        guard let revision = Int64(text) else {
            throw APIError(.badRequest, code: "invalid_if_match", message: "If-Match must be a case's ETag, such as \"3\"; got \(header)")
        }
        return revision
    }
}
