import ArgumentParser
import VigilCore

/// The `vigil` command: one root with a subcommand per job.
@main
struct Vigil: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "vigil",
        abstract: "Real-time transaction monitoring: ingest a feed, evaluate rules, persist to PostgreSQL, deliver alerts.",
        version: VigilVersion.current,
        subcommands: [
            MigrateCommand.self,
            ServeCommand.self,
            RulesCommand.self,
            FeedCommand.self,
            SecretsCommand.self,
            WebhooksCommand.self,
            TokensCommand.self,
            AuditCommand.self,
            CasesCommand.self,
        ]
    )
}

/// `vigil feed ...`: tools that produce and send transaction feeds.
struct FeedCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "feed",
        abstract: "Generate, seed and send transaction feeds.",
        subcommands: [FeedGenerateCommand.self, FeedSeedCommand.self, FeedSendCommand.self, FeedScoreCommand.self, FeedBenchCommand.self]
    )
}
