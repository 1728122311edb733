import Foundation

/// A labeled feed written by `vigil feed generate` and its reference data seeded by
/// `vigil feed seed` (through the binary, as an operator would).
struct GeneratedFeed: Sendable {
    let lines: [String]
    let ids: [String]

    static func make(count: Int, seed: UInt64, fraudRate: Double = 20, idPrefix: String = "tx-", into database: ScratchDatabase) async throws
        -> GeneratedFeed
    {
        let path = database.folder.appendingPathComponent("feed-\(seed).ndjson").path
        try await VigilProcess.run(
            [
                "feed", "generate", "--count", "\(count)", "--seed", "\(seed)", "--fraud-rate", "\(fraudRate)",
                "--id-prefix", idPrefix, "--out", path,
            ], database: nil, in: database.folder)
        try await VigilProcess.run(["feed", "seed", path + ".reference.json"], database: database, in: database.folder)
        let text = try String(contentsOfFile: path, encoding: .utf8)
        let lines = text.split(separator: "\n").map(String.init)
        let ids = try lines.map { line -> String in
            guard let object = try JSONSerialization.jsonObject(with: Data(line.utf8)) as? [String: Any], let id = object["id"] as? String else {
                throw FaultTestError("generated line without id: \(line)")
            }
            return id
        }
        guard lines.count == count else { throw FaultTestError("generated \(lines.count) lines, wanted \(count)") }
        return GeneratedFeed(lines: lines, ids: ids)
    }

    /// Seeds the same reference data into another database.
    func seed(_ seed: UInt64, into database: ScratchDatabase, from source: ScratchDatabase) async throws {
        let path = source.folder.appendingPathComponent("feed-\(seed).ndjson.reference.json").path
        try await VigilProcess.run(["feed", "seed", path], database: database, in: database.folder)
    }
}
