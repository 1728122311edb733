import ArgumentParser
import Cases
import FeedGenerator
import Foundation
import PostgresStore

/// `vigil feed score`: how well the stored alerts caught a labeled generated feed.
struct FeedScoreCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "score",
        abstract: "Compare the alerts in PostgreSQL with a generated feed's fraud and population labels.",
        discussion: """
            Reports recall per fraud pattern (a case counts as caught when any of its \
            transactions raised an alert), the false-alert rate per legitimate population \
            (a legitimate transaction counts as flagged when it raised an alert) and \
            precision (the share of alerted transactions that are fraud). Reads FEED.labels.ndjson \
            and FEED.populations.ndjson as written by `vigil feed generate`; a feed written \
            before populations existed counts every legitimate transaction as `everyday`.
            """
    )

    @Argument(help: "The generated feed (labels are read from FEED.labels.ndjson and FEED.populations.ndjson).")
    var feed: String
    @Flag(help: "Print the result as one JSON object.")
    var json = false

    struct Label: Decodable {
        var caseID: String
        var type: String
        var transactionIDs: [String]
        enum CodingKeys: String, CodingKey {
            case caseID = "case_id"
            case type
            case transactionIDs = "transaction_ids"
        }
    }

    struct PopulationLine: Decodable {
        var population: String
        var legitimateTransactions: Int
        var accountIDs: [String]
        enum CodingKeys: String, CodingKey {
            case population
            case legitimateTransactions = "legitimate_transactions"
            case accountIDs = "account_ids"
        }
    }

    func run() async throws {
        guard let labelData = FileManager.default.contents(atPath: feed + ".labels.ndjson") else {
            throw CleanExit.failure("vigil feed score: cannot read \(feed).labels.ndjson; pass the feed path given to `vigil feed generate --out`")
        }
        let labels: [Label] = try decodeLines(labelData, file: feed + ".labels.ndjson")
        var populations: [(population: String, accountIDs: [String], legitimateTransactions: Int)]
        if let data = FileManager.default.contents(atPath: feed + ".populations.ndjson") {
            populations = try decodeLines(data, file: feed + ".populations.ndjson").map { (p: PopulationLine) in
                (p.population, p.accountIDs, p.legitimateTransactions)
            }
        } else {
            guard let feedData = FileManager.default.contents(atPath: feed) else {
                throw CleanExit.failure(
                    "vigil feed score: cannot read \(feed) (needed to count transactions when \(feed).populations.ndjson is absent)")
            }
            let total = feedData.split(separator: UInt8(ascii: "\n")).count
            populations = [("everyday", [], total - Set(labels.flatMap(\.transactionIDs)).count)]
        }
        var alerts: [String: String] = [:]
        var decisions = DecisionScore()
        var dispositions = DispositionScore()
        let fraudTransactions = Set(labels.flatMap(\.transactionIDs))
        do {
            (alerts, decisions, dispositions) = try await PostgresConnection.withConnection(.fromEnvironment(applicationName: "vigil-score")) {
                db in
                var byTransaction: [String: String] = [:]
                for row in try await db.query("SELECT transaction_id, account_id FROM alerts") {
                    byTransaction[try row.decode(0, as: String.self)] = try row.decode(1, as: String.self)
                }
                return (
                    byTransaction, try await DecisionScore.read(cases: labels.map(\.transactionIDs), on: db),
                    try await DispositionScore.read(fraudTransactions: fraudTransactions, on: db)
                )
            }
        } catch let error as PostgresError {
            throw CleanExit.failure("vigil feed score: \(error)")
        }
        if populations.count == 1, populations[0].accountIDs.isEmpty {
            // No population file: every account is everyday.
            populations[0].accountIDs = Array(Set(alerts.values))
        }
        let score = DetectionScore(cases: labels.map { ($0.type, $0.transactionIDs) }, populations: populations, alerts: alerts)
        guard json else {
            print(score.text)
            print(decisions.text)
            print(dispositions.text)
            return
        }
        var object = (try? JSONSerialization.jsonObject(with: Data(score.json.utf8)) as? [String: Any]) ?? [:]
        object["decisions"] = decisions.json
        object["dispositions"] = dispositions.json
        let text = (try? JSONSerialization.data(withJSONObject: object, options: [.sortedKeys])).map { String(decoding: $0, as: UTF8.self) }
        print(text ?? score.json)
    }

    func decodeLines<T: Decodable>(_ data: Data, file: String) throws -> [T] {
        let decoder = JSONDecoder()
        var result: [T] = []
        for (number, line) in data.split(separator: UInt8(ascii: "\n"), omittingEmptySubsequences: false).enumerated() where !line.isEmpty {
            do {
                result.append(try decoder.decode(T.self, from: Data(line)))
            } catch {
                throw CleanExit.failure(
                    "vigil feed score: line \(number + 1) of \(file) is not what `vigil feed generate` writes (\(error)); regenerate the feed")
            }
        }
        return result
    }
}
