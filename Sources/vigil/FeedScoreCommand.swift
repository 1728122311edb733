import ArgumentParser
import Foundation
import PostgresStore

/// `vigil feed score`: how well the stored alerts caught a labeled generated feed.
struct FeedScoreCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "score",
        abstract: "Compare the alerts in PostgreSQL with a generated feed's fraud labels.",
        discussion: """
            A labeled case counts as caught when any of its transactions raised an alert. A \
            legitimate transaction counts as flagged when it raised an alert. Reads FEED and \
            FEED.labels.ndjson as written by `vigil feed generate`.
            """
    )

    @Argument(help: "The generated feed (its labels are read from FEED.labels.ndjson).")
    var feed: String
    @Flag(help: "Print the result as one JSON object.")
    var json = false

    struct Label: Decodable {
        var caseID: String
        var type: String
        var transactionIDs: [String]
        enum CodingKeys: String, CodingKey {
            case caseID = "case_id", type, transactionIDs = "transaction_ids"
        }
    }

    func run() async throws {
        guard let labelData = FileManager.default.contents(atPath: feed + ".labels.ndjson"),
              let feedData = FileManager.default.contents(atPath: feed) else {
            throw CleanExit.failure("vigil feed score: cannot read \(feed) and \(feed).labels.ndjson")
        }
        var labels: [Label] = []
        let decoder = JSONDecoder()
        for line in labelData.split(separator: UInt8(ascii: "\n")) where !line.isEmpty {
            do {
                labels.append(try decoder.decode(Label.self, from: Data(line)))
            } catch {
                throw CleanExit.failure("vigil feed score: a line of \(feed).labels.ndjson is not a label: \(error)")
            }
        }
        let total = feedData.split(separator: UInt8(ascii: "\n")).count
        let alerted: Set<String>
        do {
            alerted = try await PostgresConnection.withConnection(.fromEnvironment(applicationName: "vigil-score")) { db in
                Set(try await db.query("SELECT transaction_id FROM alerts").map { try $0.decode(0, as: String.self) })
            }
        } catch let error as PostgresError {
            throw CleanExit.failure("vigil feed score: \(error)")
        }
        let fraudIDs = Set(labels.flatMap(\.transactionIDs))
        var byType: [String: (caught: Int, cases: Int)] = [:]
        for label in labels {
            let caught = label.transactionIDs.contains { alerted.contains($0) }
            byType[label.type, default: (0, 0)].cases += 1
            if caught { byType[label.type, default: (0, 0)].caught += 1 }
        }
        let caught = byType.values.reduce(0) { $0 + $1.caught }
        let legitimate = total - fraudIDs.count
        let falsePositives = alerted.subtracting(fraudIDs).count
        let catchRate = labels.isEmpty ? 0 : Double(caught) / Double(labels.count)
        let fpRate = legitimate == 0 ? 0 : Double(falsePositives) / Double(legitimate)
        if json {
            let types = byType.keys.sorted().map { "\"\($0)\":{\"caught\":\(byType[$0]?.caught ?? 0),\"cases\":\(byType[$0]?.cases ?? 0)}" }
            print("{\"cases\":\(labels.count),\"caught\":\(caught),\"catch_rate\":\(catchRate),\"legitimate\":\(legitimate),"
                + "\"false_positives\":\(falsePositives),\"false_positive_rate\":\(fpRate),\"by_type\":{\(types.joined(separator: ","))}}")
        } else {
            print("labeled fraud cases caught: \(caught) of \(labels.count) (\(String(format: "%.1f", catchRate * 100))%)")
            print("legitimate transactions flagged: \(falsePositives) of \(legitimate) (\(String(format: "%.2f", fpRate * 100))%)")
            for type in byType.keys.sorted() {
                let entry = byType[type] ?? (0, 0)
                print("  \(type.padding(toLength: 24, withPad: " ", startingAt: 0)) \(entry.caught)/\(entry.cases)")
            }
        }
    }
}
