import Foundation

#if canImport(Glibc)
import Glibc
#endif

/// A PostgreSQL server of the test's own, which it can stop and start: initdb into a
/// temporary folder, listening only on a Unix socket there (as `scripts/with-postgres.sh`
/// does for the whole run, whose server a test must not stop).
final class PrivateCluster: Sendable {
    let folder: URL
    private let bin: URL
    /// Commands run as the `postgres` user when the tests run as root (PostgreSQL refuses root).
    private let asPostgres: Bool

    /// The socket folder, what `PGHOST` names.
    var socketDirectory: String { folder.path }

    /// A new cluster, created and started.
    static func start(label: String) throws -> PrivateCluster {
        let versions = (try? FileManager.default.contentsOfDirectory(atPath: "/usr/lib/postgresql")) ?? []
        guard let version = versions.sorted(by: { $0.compare($1, options: .numeric) == .orderedAscending }).last else {
            throw FaultTestError("no PostgreSQL server binaries under /usr/lib/postgresql; run scripts/install-deps.sh")
        }
        let folder = FileManager.default.temporaryDirectory.appendingPathComponent("vigil-cluster-\(label)-\(UInt32.random(in: 0...UInt32.max))")
        try FileManager.default.createDirectory(at: folder, withIntermediateDirectories: true, attributes: [.posixPermissions: 0o755])
        let cluster = PrivateCluster(folder: folder, bin: URL(fileURLWithPath: "/usr/lib/postgresql/\(version)/bin"), asPostgres: getuid() == 0)
        if cluster.asPostgres { try cluster.shell(["/bin/chown", "postgres:postgres", folder.path], asPostgres: false) }
        try cluster.shell([
            cluster.bin.appendingPathComponent("initdb").path, "-D", folder.appendingPathComponent("data").path,
            "-U", "postgres", "--auth=trust", "-E", "UTF8", "--locale=C.UTF-8",
        ])
        try cluster.start()
        return cluster
    }

    private init(folder: URL, bin: URL, asPostgres: Bool) {
        self.folder = folder
        self.bin = bin
        self.asPostgres = asPostgres
    }

    /// Starts the server and waits until it accepts connections.
    func start() throws {
        try shell([
            bin.appendingPathComponent("pg_ctl").path, "-D", folder.appendingPathComponent("data").path,
            "-l", folder.appendingPathComponent("server.log").path, "-w", "-t", "60",
            "-o", "-k \(folder.path) -c listen_addresses='' -c max_connections=100", "start",
        ])
    }

    /// Stops the server at once, as a crash or `pg_ctl stop -m immediate` by an operator would.
    func stopImmediately() throws {
        try shell([bin.appendingPathComponent("pg_ctl").path, "-D", folder.appendingPathComponent("data").path, "-m", "immediate", "-w", "stop"])
    }

    /// A streaming replica of `primary` (`pg_basebackup -R`: it follows the primary over
    /// its socket), started on a socket folder of its own.
    static func replica(of primary: PrivateCluster, label: String) throws -> PrivateCluster {
        let folder = FileManager.default.temporaryDirectory.appendingPathComponent("vigil-cluster-\(label)-\(UInt32.random(in: 0...UInt32.max))")
        try FileManager.default.createDirectory(at: folder, withIntermediateDirectories: true, attributes: [.posixPermissions: 0o755])
        let cluster = PrivateCluster(folder: folder, bin: primary.bin, asPostgres: primary.asPostgres)
        if cluster.asPostgres { try cluster.shell(["/bin/chown", "postgres:postgres", folder.path], asPostgres: false) }
        try cluster.shell([
            cluster.bin.appendingPathComponent("pg_basebackup").path, "-D", folder.appendingPathComponent("data").path,
            "-h", primary.socketDirectory, "-p", "5432", "-U", "postgres", "-R", "-X", "stream", "-c", "fast",
        ])
        try cluster.start()
        return cluster
    }

    /// Promotes a replica to a primary (`pg_ctl promote`, waiting until it accepts writes).
    func promote() throws {
        try shell([bin.appendingPathComponent("pg_ctl").path, "-D", folder.appendingPathComponent("data").path, "-w", "-t", "60", "promote"])
    }

    /// Stops the server (if running) and deletes its folder.
    func remove() {
        try? stopImmediately()
        try? FileManager.default.removeItem(at: folder)
    }

    /// The variables that point libpq (and so a `vigil` child) at this server.
    var environment: [String: String] { ["PGHOST": socketDirectory, "PGPORT": "5432", "PGUSER": "postgres"] }

    /// Runs a command to its end with its output in a file. posix_spawn and waitpid rather
    /// than Foundation's `Process`, whose `waitUntilExit` was seen to hang here once
    /// `pg_ctl` had left a server running behind it.
    private func shell(_ command: [String], asPostgres: Bool? = nil) throws {
        let runAs = asPostgres ?? self.asPostgres
        let argv = runAs ? ["/usr/sbin/runuser", "-u", "postgres", "--"] + command : command
        let outputPath = FileManager.default.temporaryDirectory.appendingPathComponent("vigil-cluster-cmd-\(UInt32.random(in: 0...UInt32.max)).log")
            .path
        defer { try? FileManager.default.removeItem(atPath: outputPath) }
        var actions = posix_spawn_file_actions_t()
        posix_spawn_file_actions_init(&actions)
        defer { posix_spawn_file_actions_destroy(&actions) }
        posix_spawn_file_actions_addopen(&actions, 0, "/dev/null", O_RDONLY, 0)
        posix_spawn_file_actions_addopen(&actions, 1, outputPath, O_WRONLY | O_CREAT | O_TRUNC, 0o644)
        posix_spawn_file_actions_adddup2(&actions, 1, 2)
        var cArgs = argv.map { strdup($0) } + [nil]
        defer { for arg in cArgs { free(arg) } }
        var pid: pid_t = 0
        let spawned = posix_spawn(&pid, argv[0], &actions, nil, &cArgs, environ)
        guard spawned == 0 else { throw FaultTestError("cannot run \(argv[0]): errno \(spawned)") }
        var status: Int32 = 0
        while waitpid(pid, &status, 0) < 0 && errno == EINTR {}
        let text = (try? String(contentsOfFile: outputPath, encoding: .utf8)) ?? ""
        // WIFEXITED && WEXITSTATUS == 0
        guard status & 0x7f == 0, (status >> 8) & 0xff == 0 else {
            throw FaultTestError("\(command.joined(separator: " ")) failed (wait status \(status)):\n\(text)")
        }
    }
}
