import FeedGenerator
import FeedProtocol
import FeedServer
import Foundation
import Pipeline
import PostgresStore
import RuleLanguage
import Testing
import VigilCore
import VigilTesting

@Suite("The starter rules on a generated, labeled feed")
struct DetectionQualityTests {
    @Test("catch at least 90% of labeled fraud cases and flag at most 1% of legitimate transactions")
    func catchRate() async throws {
        let rulesPath = TestDatabase.repositoryRoot.appendingPathComponent("Rules").path
        let loaded = RulesetLoader.load(paths: [rulesPath])
        let ruleset = try #require(loaded.ruleset, "the starter rules must compile")
        let generator = FeedGenerator(configuration: GeneratorConfiguration(count: 40_000, seed: 3))
        // Each account's records on one of four connections, in order.
        var payloads = [[UInt8]](repeating: [], count: 4)
        var counts = [Int](repeating: 0, count: 4)
        var cases: [String: (type: String, ids: [String])] = [:]
        var fraudIDs = Set<String>()
        for record in generator {
            let tx = record.transaction
            let connection = Int(tx.accountID.utf8.reduce(UInt64(0)) { $0 &* 31 &+ UInt64($1) } % 4)
            FeedEncoder.append(tx, to: &payloads[connection])
            counts[connection] += 1
            if let fraud = record.fraud {
                cases[fraud.caseID, default: (fraud.type.rawValue, [])].ids.append(tx.id)
                fraudIDs.insert(tx.id)
            }
        }
        let total = counts.reduce(0, +)
        let streams = Array(zip(payloads, counts))
        try await TestDatabase.withMigrated { database in
            let db = try await PostgresConnection.connect(database)
            try await ReferenceSeeder.seed(generator.referenceData, into: db)
            try await withVigil(database: database, ruleset: ruleset) { server, port in
                #expect(await eventually { server.health.readiness.ready })
                let acked = try await withThrowingTaskGroup(of: Int.self) { group in
                    for (payload, expected) in streams where expected > 0 {
                        group.addTask {
                            try await FeedClient.withConnection(host: "127.0.0.1", port: port) { connection in
                                let writer = connection.writer
                                let sender = Task { try await writer.send(bytes: payload) }
                                var acks = 0
                                while acks < expected, let reply = try await connection.nextReply() {
                                    if case .ack = reply { acks += 1 }
                                }
                                try await sender.value
                                return acks
                            }
                        }
                    }
                    return try await group.reduce(0, +)
                }
                #expect(acked == total)
            }
            let alerted = Set(try await db.query("SELECT transaction_id FROM alerts").map { try $0.decode(0, as: String.self) })
            let caught = cases.values.filter { $0.ids.contains(where: alerted.contains) }.count
            let falsePositives = alerted.subtracting(fraudIDs).count
            let legitimate = total - fraudIDs.count
            let catchRate = Double(caught) / Double(max(1, cases.count))
            let fpRate = Double(falsePositives) / Double(max(1, legitimate))
            print(
                "starter rules on 40,000 generated transactions: caught \(caught)/\(cases.count) cases, flagged \(falsePositives)/\(legitimate) legitimate"
            )
            #expect(cases.count >= 40)
            #expect(catchRate >= 0.90, "caught \(caught) of \(cases.count) labeled cases")
            #expect(fpRate <= 0.01, "flagged \(falsePositives) of \(legitimate) legitimate transactions")
        }
    }
}
