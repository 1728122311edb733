import FeedProtocol
import Foundation
import VigilCore

/// Writes a generated feed and its side files.
///
/// - `path`: the NDJSON feed, one canonical protocol v1 line per transaction.
/// - `path.labels.ndjson`: one line per fraud case:
///   `{"case_id":"case-000001","type":"card_testing","transaction_ids":["tx-…"],"account_ids":["acc-…"]}`.
/// - `path.reference.json`: ``ReferenceData``.
/// - `path.populations.ndjson`: one line per legitimate population:
///   `{"population":"business","legitimate_transactions":1234,"account_ids":["acc-…"]}`.
public enum FeedFileWriter {
    /// What was written.
    public struct Summary: Sendable, Hashable {
        public var transactions: Int
        public var fraudTransactions: Int
        public var casesByType: [FraudType: Int]
        public var feedPath: String
        public var labelsPath: String
        public var referencePath: String
        /// Legitimate transactions per population (written to `path.populations.ndjson`).
        public var legitimateByPopulation: [Population: Int]
    }

    /// Generates the whole feed for `configuration` and writes the three files.
    public static func write(_ configuration: GeneratorConfiguration, to path: String) throws -> Summary {
        let generator = FeedGenerator(configuration: configuration)
        var buffer: [UInt8] = []
        buffer.reserveCapacity(1 << 20)
        var cases: [String: (type: FraudType, ids: [String], accounts: [String])] = [:]
        var order: [String] = []
        var total = 0
        var fraud = 0
        var legitimateByPopulation: [Population: Int] = [:]
        guard FileManager.default.createFile(atPath: path, contents: nil),
            let handle = FileHandle(forWritingAtPath: path)
        else {
            throw GeneratorError(message: "cannot create \(path); check that its directory exists and is writable")
        }
        defer { try? handle.close() }
        for record in generator {
            FeedEncoder.append(record.transaction, to: &buffer)
            total += 1
            if record.fraud == nil { legitimateByPopulation[record.population, default: 0] += 1 }
            if let label = record.fraud {
                fraud += 1
                if cases[label.caseID] == nil {
                    order.append(label.caseID)
                    cases[label.caseID] = (label.type, [], [])
                }
                cases[label.caseID]?.ids.append(record.transaction.id)
                if cases[label.caseID]?.accounts.contains(record.transaction.accountID) == false {
                    cases[label.caseID]?.accounts.append(record.transaction.accountID)
                }
            }
            if buffer.count >= 1 << 20 {
                try handle.write(contentsOf: buffer)
                buffer.removeAll(keepingCapacity: true)
            }
        }
        try handle.write(contentsOf: buffer)

        var labels: [UInt8] = []
        var byType: [FraudType: Int] = [:]
        for id in order.sorted() {
            guard let c = cases[id] else { continue }
            byType[c.type, default: 0] += 1
            let line =
                "{\"case_id\":\(quote(id)),\"type\":\(quote(c.type.rawValue)),\"transaction_ids\":[\(c.ids.map(quote).joined(separator: ","))],\"account_ids\":[\(c.accounts.map(quote).joined(separator: ","))]}\n"
            labels.append(contentsOf: line.utf8)
        }
        let labelsPath = path + ".labels.ndjson"
        let referencePath = path + ".reference.json"
        try Data(labels).write(to: URL(fileURLWithPath: labelsPath))
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.sortedKeys]
        try encoder.encode(generator.referenceData).write(to: URL(fileURLWithPath: referencePath))
        var populations: [UInt8] = []
        for population in Population.allCases {
            let ids = generator.world.accounts.filter { $0.population == population && !$0.fraudOnly }.map(\.id)
            guard !ids.isEmpty else { continue }
            let line =
                "{\"population\":\(quote(population.rawValue)),\"legitimate_transactions\":\(legitimateByPopulation[population] ?? 0),\"account_ids\":[\(ids.map(quote).joined(separator: ","))]}\n"
            populations.append(contentsOf: line.utf8)
        }
        try Data(populations).write(to: URL(fileURLWithPath: path + ".populations.ndjson"))
        return Summary(
            transactions: total, fraudTransactions: fraud, casesByType: byType,
            feedPath: path, labelsPath: labelsPath, referencePath: referencePath,
            legitimateByPopulation: legitimateByPopulation)
    }

    /// Ids are plain ASCII here, but quote defensively.
    static func quote(_ s: String) -> String {
        var out = "\""
        for c in s {
            if c == "\"" || c == "\\" { out.append("\\") }
            out.append(c)
        }
        return out + "\""
    }
}

/// A generator failure with what to do about it.
public struct GeneratorError: Error, Sendable, CustomStringConvertible {
    /// What went wrong and what to do.
    public var message: String
    public var description: String { message }
}
