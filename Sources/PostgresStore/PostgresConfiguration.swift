import Foundation

/// Where and how to connect: libpq's own conventions.
///
/// With no connection string, libpq reads the standard `PG*` variables itself
/// (`PGHOST`, `PGPORT`, `PGUSER`, `PGPASSWORD`, `PGDATABASE`, ...). `DATABASE_URL`,
/// when set, is a `postgresql://` URI or a `key=value` connection string.
public struct PostgresConfiguration: Sendable {
    /// A libpq connection string or URI; empty means "use the `PG*` variables".
    public var connectionString: String
    /// `application_name` reported to the server (visible in `pg_stat_activity`).
    public var applicationName: String
    /// A database name that overrides the one in the connection string or `PGDATABASE`.
    public var databaseName: String?

    /// Creates a configuration.
    public init(connectionString: String = "", applicationName: String = "vigil", databaseName: String? = nil) {
        self.connectionString = connectionString
        self.applicationName = applicationName
        self.databaseName = databaseName
    }

    /// `DATABASE_URL` when set, else the `PG*` variables.
    public static func fromEnvironment(applicationName: String = "vigil") -> PostgresConfiguration {
        let url = ProcessInfo.processInfo.environment["DATABASE_URL"] ?? ""
        return PostgresConfiguration(connectionString: url, applicationName: applicationName)
    }

    /// A short description of the target for error messages, without the password.
    var targetDescription: String {
        let env = ProcessInfo.processInfo.environment
        if !connectionString.isEmpty {
            if let url = URL(string: connectionString), let host = url.host {
                return "\(host):\(url.port ?? 5432)"
            }
            return "the server named in DATABASE_URL"
        }
        let host = env["PGHOST"] ?? "localhost (default socket)"
        let port = env["PGPORT"] ?? "5432"
        return "\(host):\(port)"
    }
}
