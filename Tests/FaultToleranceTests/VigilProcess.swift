import Foundation
import Synchronization

#if canImport(Glibc)
import Glibc
import VigilTesting
#endif

/// A `vigil` child process: the built binary, run with a throwaway database in its
/// environment, its output in a log file (printed when a test fails).
///
/// `@unchecked Sendable`: the `Process` is configured before `run()` and only read
/// afterwards (its pid); the exit status lives behind a `Mutex`.
final class VigilProcess: @unchecked Sendable {
    /// The built `vigil` executable: beside the test binary (`swift build --build-tests`
    /// builds both into the same folder), or `VIGIL_BINARY`.
    static let binary: URL = {
        if let path = ProcessInfo.processInfo.environment["VIGIL_BINARY"] { return URL(fileURLWithPath: path) }
        let me = URL(fileURLWithPath: (try? FileManager.default.destinationOfSymbolicLink(atPath: "/proc/self/exe")) ?? CommandLine.arguments[0])
        var folder = me.deletingLastPathComponent()
        // macOS-style bundles: .../vigilPackageTests.xctest/Contents/MacOS/vigilPackageTests
        while folder.path != "/" && folder.path.contains(".xctest") { folder = folder.deletingLastPathComponent() }
        return folder.appendingPathComponent("vigil")
    }()

    /// The repository (for `Rules/` and `Schemas/`); children run there.
    static let repositoryRoot = URL(fileURLWithPath: #filePath)
        .deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent()

    let process: Process
    let logURL: URL
    private let exit = Mutex<Int32?>(nil)

    var pid: Int32 { process.processIdentifier }

    private init(process: Process, logURL: URL) {
        self.process = process
        self.logURL = logURL
    }

    /// Starts `vigil arguments...` with `environment` added to the inherited one; with
    /// `openFileLimit`, under that descriptor limit (`ulimit -n` in a shell that then
    /// execs vigil, so the pid is vigil's).
    static func start(
        _ arguments: [String], database: ScratchDatabase?, environment: [String: String] = [:], log: URL,
        openFileLimit: Int? = nil
    ) throws -> VigilProcess {
        guard FileManager.default.isExecutableFile(atPath: binary.path) else {
            throw FaultTestError("no vigil executable at \(binary.path): build it with `swift build --build-tests` (or set VIGIL_BINARY)")
        }
        let process = Process()
        if let openFileLimit {
            process.executableURL = URL(fileURLWithPath: "/bin/sh")
            process.arguments = ["-c", "ulimit -n \(openFileLimit) && exec \"$0\" \"$@\"", binary.path] + arguments
        } else {
            process.executableURL = binary
            process.arguments = arguments
        }
        process.currentDirectoryURL = repositoryRoot
        var env = ProcessInfo.processInfo.environment
        if let database { database.apply(to: &env) }
        env["VIGIL_SCHEMAS"] = repositoryRoot.appendingPathComponent("Schemas").path
        env.removeValue(forKey: "VIGIL_TEST_FAULTS")
        // Webhook secrets are sealed under the operator's key: every child of a test run
        // shares one (a test passes VIGIL_SECRET_KEY="" to run without).
        if env["VIGIL_SECRET_KEY"] == nil { env["VIGIL_SECRET_KEY"] = testSecretKey }
        for (key, value) in environment { env[key] = value }
        process.environment = env
        FileManager.default.createFile(atPath: log.path, contents: nil)
        let handle = try FileHandle(forWritingTo: log)
        handle.seekToEndOfFile()
        process.standardOutput = handle
        process.standardError = handle
        process.standardInput = FileHandle.nullDevice
        let child = VigilProcess(process: process, logURL: log)
        process.terminationHandler = { p in
            child.exit.withLock { $0 = p.terminationStatus }
            try? handle.close()
        }
        try process.run()
        return child
    }

    /// Runs a short command (`migrate`, `feed generate`, ...) to completion; throws with
    /// its output when it fails.
    @discardableResult
    static func run(_ arguments: [String], database: ScratchDatabase?, in folder: URL, timeout: Duration = .seconds(120)) async throws -> String {
        let log = folder.appendingPathComponent("cmd-\(UUID().uuidString.prefix(8)).log")
        let child = try start(arguments, database: database, log: log)
        guard let status = await child.waitForExit(timeout: timeout) else {
            child.kill(SIGKILL)
            throw FaultTestError("vigil \(arguments.joined(separator: " ")) did not finish in \(timeout)")
        }
        let output = child.log
        guard status == 0 else { throw FaultTestError("vigil \(arguments.joined(separator: " ")) exited \(status):\n\(output)") }
        return output
    }

    /// The exit status once the process has exited.
    var exitStatus: Int32? { exit.withLock { $0 } }
    var isRunning: Bool { exitStatus == nil }

    /// Sends a signal.
    func kill(_ signal: Int32) {
        if isRunning { _ = Glibc.kill(pid, signal) }
    }

    /// Waits for the process to exit; `nil` if it is still running at the deadline.
    func waitForExit(timeout: Duration) async -> Int32? {
        _ = await eventually(timeout: timeout, poll: .milliseconds(50)) { !self.isRunning }
        return exitStatus
    }

    /// Kills it (SIGKILL) if still running and waits for it.
    func stop() async {
        kill(SIGKILL)
        _ = await waitForExit(timeout: .seconds(10))
    }

    /// Its output so far.
    var log: String { (try? String(contentsOf: logURL, encoding: .utf8)) ?? "" }

    /// Resident set size in KiB, from /proc/PID/status (`nil` once it has exited).
    var residentKiB: Int? {
        guard let status = try? String(contentsOfFile: "/proc/\(pid)/status", encoding: .utf8) else { return nil }
        for line in status.split(separator: "\n") where line.hasPrefix("VmRSS:") {
            return Int(line.split(separator: " ", omittingEmptySubsequences: true).dropFirst().first ?? "")
        }
        return nil
    }
}

/// A failure of the harness itself, with what to do about it.
struct FaultTestError: Error, CustomStringConvertible {
    var description: String
    init(_ description: String) { self.description = description }
}
