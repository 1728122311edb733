import VigilCore

/// A ruleset going live, as `ruleset_activations` records it.
public struct RulesetActivation: Sendable {
    /// Who: an API token's name, or the operating-system user for a start or SIGHUP.
    public var author: String
    /// `start`, `reload` or `approval`.
    public var how: String
    /// Why, when given.
    public var message: String?

    /// Creates an activation record.
    public init(author: String, how: String, message: String? = nil) {
        self.author = author
        self.how = how
        self.message = message
    }
}

/// One line of `vigil rules history`.
public struct RulesetHistoryEntry: Sendable {
    public var version: String
    public var liveAt: Timestamp
    public var author: String
    public var how: String
    public var message: String?
    public var ruleCount: Int
}

extension PostgresConnection {
    /// Records a ruleset version in `ruleset_versions` (idempotent: a version already
    /// recorded keeps its first text and author), so every alert's `ruleset_version`
    /// names a known row; with `activation`, also records that it went live — at start
    /// only when it differs from the version that was live last, so restarts add no noise.
    /// `files` are the rule files it was compiled from, `texts` their contents by name.
    public func recordRulesetVersion(
        _ version: String, files: [String], ruleCount: Int, texts: [String: String] = [:], activation: RulesetActivation? = nil
    ) throws {
        let filesJSON = "[" + files.map { JSONText.quoted($0) }.joined(separator: ",") + "]"
        let textsJSON =
            "{" + texts.sorted { $0.key < $1.key }.map { JSONText.quoted($0.key) + ":" + JSONText.quoted($0.value) }.joined(separator: ",") + "}"
        try transaction { db in
            try db.execute(
                """
                INSERT INTO ruleset_versions (version, files, rule_count, texts, author, message)
                VALUES (\(version), \(PostgresJSON(filesJSON))::jsonb, \(ruleCount), \(PostgresJSON(textsJSON))::jsonb,
                        \(activation?.author), \(activation?.message))
                ON CONFLICT (version) DO UPDATE SET texts = coalesce(ruleset_versions.texts, EXCLUDED.texts)
                """)
            guard let activation else { return }
            let last: String? = try db.query("SELECT version FROM ruleset_activations ORDER BY id DESC LIMIT 1").first?.decode(0)
            if activation.how == "start" && last == version { return }
            try db.execute(
                """
                INSERT INTO ruleset_activations (version, author, how, message)
                VALUES (\(version), \(activation.author), \(activation.how), \(activation.message))
                """)
        }
    }

    /// The most recent times a ruleset went live, newest first.
    public func rulesetHistory(limit: Int) throws -> [RulesetHistoryEntry] {
        try query(
            """
            SELECT a.version, a.live_at, a.author, a.how, a.message, v.rule_count
            FROM ruleset_activations a JOIN ruleset_versions v USING (version)
            ORDER BY a.id DESC LIMIT \(limit)
            """
        ).map { row in
            RulesetHistoryEntry(
                version: try row.decode(0), liveAt: try row.decode(1), author: try row.decode(2), how: try row.decode(3),
                message: try row.decodeIfPresent(4), ruleCount: try row.decode(5))
        }
    }

    /// The texts a version was compiled from, by file name; `nil` when the version is
    /// unknown, empty when it was recorded before texts were kept.
    public func rulesetTexts(_ version: String) throws -> [String: String]? {
        let rows = try query(
            """
            SELECT t.key, t.value FROM ruleset_versions v LEFT JOIN LATERAL jsonb_each_text(v.texts) t ON true
            WHERE v.version = \(version)
            """)
        guard rows.count > 0 else { return nil }
        var texts: [String: String] = [:]
        for row in rows {
            if let key: String = try row.decodeIfPresent(0) { texts[key] = try row.decodeIfPresent(1) ?? "" }
        }
        return texts
    }
}
