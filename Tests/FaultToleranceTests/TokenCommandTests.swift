import Foundation
import Testing
import VigilTesting

extension FaultToleranceTests {
    /// The token and audit commands through the real binaries: a token printed once works
    /// against `vigil serve`; `list` never shows it; `revoke` cuts it off on the next
    /// request; `audit` shows who did what, in text and JSON.
    @Test("16. vigil tokens create|list|revoke and vigil audit against a running serve", .timeLimit(.minutes(2)))
    func tokenCommands() async throws {
        try await ScratchDatabase.with("tokens") { database in
            let server = try await ServeProcess.start(database: database, name: "serve")
            defer { Task { await server.stop() } }
            let created = try await VigilProcess.run(
                ["tokens", "create", "--name", "scraper", "--role", "viewer", "--expires", "1d"], database: database, in: database.folder)
            let token = try #require(created.split(separator: "\n").first { $0.hasPrefix("vgl_") }.map(String.init))
            #expect(token.count == 4 + 43, "vgl_ + 32 bytes base64url: \(token)")
            #expect(Network.get(port: server.opsPort, path: "/metrics", token: token)?.status == 200)
            #expect(Network.get(port: server.opsPort, path: "/metrics")?.status == 401)

            let listed = try await VigilProcess.run(["tokens", "list"], database: database, in: database.folder)
            #expect(listed.contains("scraper\tviewer\tactive") && !listed.contains(token), "\(listed)")
            let refused = try? await VigilProcess.run(
                ["tokens", "create", "--name", "scraper", "--role", "admin"], database: database, in: database.folder)
            #expect(refused == nil, "a second active token with the same name must be refused")

            try await VigilProcess.run(["tokens", "revoke", "scraper"], database: database, in: database.folder)
            #expect(Network.get(port: server.opsPort, path: "/metrics", token: token)?.status == 401)
            let afterRevoke = try await VigilProcess.run(["tokens", "list"], database: database, in: database.folder)
            #expect(afterRevoke.contains("scraper\tviewer\trevoked"), "\(afterRevoke)")

            let audit = try await VigilProcess.run(["audit", "--json"], database: database, in: database.folder)
            let actions = audit.split(separator: "\n").compactMap { line -> String? in
                guard let object = try? JSONSerialization.jsonObject(with: Data(line.utf8)) as? [String: Any] else { return nil }
                return "\(object["action"] ?? "") \(object["target"] ?? "")"
            }
            #expect(actions.suffix(2) == ["token.create scraper", "token.revoke scraper"], "\(audit)")
            #expect(audit.contains("\"actor\":\"cli:"))
        }
    }
}
