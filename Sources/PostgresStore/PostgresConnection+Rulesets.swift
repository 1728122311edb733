import VigilCore

extension PostgresConnection {
    /// Records a ruleset version in `ruleset_versions` (idempotent: a version already
    /// recorded is left as it is), so every alert's `ruleset_version` names a known row.
    /// `files` are the rule files it was compiled from.
    public func recordRulesetVersion(_ version: String, files: [String], ruleCount: Int) throws {
        let filesJSON = "[" + files.map { JSONText.quoted($0) }.joined(separator: ",") + "]"
        try execute(
            """
            INSERT INTO ruleset_versions (version, files, rule_count) VALUES (\(version), \(PostgresJSON(filesJSON))::jsonb, \(ruleCount))
            ON CONFLICT (version) DO NOTHING
            """)
    }
}
