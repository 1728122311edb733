import FeedGenerator
import FeedProtocol
import FeedServer
import Foundation
import PostgresStore
import RuleLanguage
import Testing
import VigilCore
import VigilTesting

/// Sends a generated feed through a whole Vigil (real TCP port, real PostgreSQL) and
/// scores the alerts it stored against the feed's labels, as `vigil feed score` does.
func scoreThroughPipeline(_ configuration: GeneratorConfiguration, ruleset: CompiledRuleset) async throws -> DetectionScore {
    let generator = FeedGenerator(configuration: configuration)
    // Each account's records on one of four connections, in order.
    var payloads = [[UInt8]](repeating: [], count: 4)
    var counts = [Int](repeating: 0, count: 4)
    var cases: [String: (pattern: String, ids: [String])] = [:]
    var legitimate: [Population: Int] = [:]
    for record in generator {
        let tx = record.transaction
        let connection = Int(tx.accountID.utf8.reduce(UInt64(0)) { $0 &* 31 &+ UInt64($1) } % 4)
        FeedEncoder.append(tx, to: &payloads[connection])
        counts[connection] += 1
        if let fraud = record.fraud {
            cases[fraud.caseID, default: (fraud.type.rawValue, [])].ids.append(tx.id)
        } else {
            legitimate[record.population, default: 0] += 1
        }
    }
    let total = counts.reduce(0, +)
    let streams = Array(zip(payloads, counts))
    let alerts: [String: String] = try await TestDatabase.withMigrated { database in
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
        var alerts: [String: String] = [:]
        for row in try await db.query("SELECT transaction_id, account_id FROM alerts") {
            alerts[try row.decode(0, as: String.self)] = try row.decode(1, as: String.self)
        }
        await db.close()
        return alerts
    }
    let accounts = Dictionary(grouping: generator.accountPopulations, by: \.population)
    return DetectionScore(
        cases: cases.values.map { ($0.pattern, $0.ids) },
        populations: Population.allCases.compactMap { p in
            legitimate[p].map { (p.rawValue, accounts[p]?.map(\.accountID) ?? [], $0) }
        },
        alerts: alerts)
}
