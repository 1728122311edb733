import Foundation
import PostgresStore

/// What the stored decisions did with a labeled feed: fraud blocked, legitimate payments
/// blocked or sent to review (the cost of a decision engine is the good customers it stops).
struct DecisionScore {
    var fraud: [String: Int] = [:]
    var legitimate: [String: Int] = [:]
    var fraudCases = 0
    var fraudCasesBlocked = 0

    /// Reads the decisions of every stored transaction; `cases` are the labeled fraud cases.
    static func read(cases: [[String]], on db: PostgresConnection) async throws -> DecisionScore {
        let fraudIDs = Set(cases.flatMap { $0 })
        var score = DecisionScore()
        var blocked = Set<String>()
        for row in try await db.query("SELECT decision, count(*) FROM transactions WHERE decision IS NOT NULL GROUP BY decision") {
            score.legitimate[try row.decode(0, as: String.self)] = Int(try row.decode(1, as: Int64.self))
        }
        for row in try await db.query(
            "SELECT id, decision FROM transactions WHERE id = ANY(\(PostgresTextArray(Array(fraudIDs)))::text[]) AND decision IS NOT NULL")
        {
            let decision = try row.decode(1, as: String.self)
            score.fraud[decision, default: 0] += 1
            score.legitimate[decision, default: 0] -= 1
            if decision == "block" { blocked.insert(try row.decode(0, as: String.self)) }
        }
        score.fraudCases = cases.count
        score.fraudCasesBlocked = cases.filter { $0.contains(where: blocked.contains) }.count
        return score
    }

    private static func share(_ part: Int, of whole: Int) -> String {
        whole == 0 ? "-" : String(format: "%.2f%%", 100 * Double(part) / Double(whole))
    }

    var text: String {
        let fraudTotal = fraud.values.reduce(0, +)
        let legitTotal = legitimate.values.reduce(0, +)
        return """
            decisions:
              fraud transactions: blocked \(fraud["block", default: 0]) of \(fraudTotal) (\(Self.share(fraud["block", default: 0], of: fraudTotal))), \
            sent to review \(fraud["review", default: 0]), allowed \(fraud["allow", default: 0])
              fraud cases with a blocked payment: \(fraudCasesBlocked) of \(fraudCases)
              legitimate transactions: blocked \(legitimate["block", default: 0]) of \(legitTotal) \
            (\(Self.share(legitimate["block", default: 0], of: legitTotal))), sent to review \(legitimate["review", default: 0]) \
            (\(Self.share(legitimate["review", default: 0], of: legitTotal)))
            """
    }

    var json: [String: Any] {
        ["fraud": fraud, "legitimate": legitimate, "fraud_cases": fraudCases, "fraud_cases_blocked": fraudCasesBlocked]
    }
}
