import Testing
import VigilTesting

@Suite("Console pages: errors that say what was wrong and what to do", .serialized)
struct ConsolePageTests {
    @Test("an unknown alert, a bad alert id, an unknown severity and a forged page position each get a page naming the problem")
    func errorPages() async throws {
        try await TestDatabase.withMigrated { database in
            let token = try await TestTokens.create(.viewer, name: "vic", in: database)
            try await withConsoleVigil(database: database) { feedPort, httpPort in
                let http = ConsoleHTTP(port: httpPort)
                let session = try await http.signIn(token: token)
                let missing = try await http.get("/console/alerts/999", session: session)
                #expect(missing.status == 404)
                #expect(missing.body.contains("There is no alert #999."))
                #expect(missing.headers["content-type"].first?.hasPrefix("text/html") == true)
                let bad = try await http.get("/console/alerts/abc", session: session)
                #expect(bad.status == 400)
                #expect(bad.body.contains("&#39;abc&#39; is not an alert id") || bad.body.contains("'abc' is not an alert id"))
                let severity = try await http.get("/console?severity=urgent", session: session)
                #expect(severity.status == 400)
                #expect(severity.body.contains("low, medium, high, critical"))
                let cursor = try await http.get("/console?after=7.1", session: session)
                #expect(cursor.status == 400)
                #expect(cursor.body.contains("start again from /console"))

                // A filtered queue with nothing in it says so, and how to clear it.
                try await sendFeed([feedLine("tx-page-1", amount: "700.00")], port: feedPort)
                let filtered = try await http.get("/console?severity=low", session: session)
                #expect(filtered.status == 200)
                #expect(filtered.body.contains("No alerts match these filters."))
                let high = try await http.get("/console?severity=high&rule=large_amount", session: session)
                #expect(high.body.contains("tx-page-1"))
                #expect(high.body.contains("700.00 EUR"))
                #expect(high.headers["content-security-policy"].first?.contains("script-src 'self'") == true)
            }
        }
    }
}
