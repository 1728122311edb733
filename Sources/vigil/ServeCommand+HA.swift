import ArgumentParser
import Foundation
import Pipeline

#if canImport(Glibc)
import Glibc
#endif

/// The high-availability options of `vigil serve` (docs/operations.md, "High availability").
struct HAOptions: ParsableArguments {
    @Flag(help: "Active/standby: lead only while holding the lease in PostgreSQL; otherwise refuse the feed with not_leader [VIGIL_HA=1].")
    var ha = false
    @Option(help: "Seconds a leadership lease runs after each renewal (renewed every third of it) [VIGIL_LEASE] (default 3).")
    var lease: Double?
    @Option(help: "This node's name in the lease, the logs and pg_stat_activity (vigil-<name>) [VIGIL_HA_NODE] (default: the host name).")
    var haNode: String?
    @Option(
        help:
            "host:port where clients reach this node's feed, told to them by standbys [VIGIL_HA_ADVERTISE] (default: the host name and the feed port)."
    )
    var haAdvertise: String?

    /// The settings keys these options read from --config.
    static let settingsKeys: Set<String> = ["ha", "lease", "ha-node", "ha-advertise"]

    /// Exit status of a node that lost the lease: EX_TEMPFAIL, "start me again" (as a standby).
    static let lostLeaseStatus: Int32 = 75

    private static func pick(_ flag: String?, _ env: String, _ key: String, _ settings: Settings) -> String? {
        if let flag { return flag }
        if let text = ProcessInfo.processInfo.environment[env], !text.isEmpty { return text }
        return settings.values[key]
    }

    /// Whether `--ha` (or `VIGIL_HA=1`, or `"ha": true`) was given.
    func isEnabled(settings: Settings) -> Bool {
        ha || ProcessInfo.processInfo.environment["VIGIL_HA"] == "1" || ["true", "1"].contains(settings.values["ha"] ?? "")
    }

    /// The profile checkpoint interval when none is given: a takeover replays what was
    /// stored since the last checkpoint, so an HA pair checkpoints every 2 s, not 30.
    func defaultCheckpointSeconds(settings: Settings) -> Int { isEnabled(settings: settings) ? 2 : 30 }

    /// Turns on active/standby when asked: the lease, the node's name and address, and an
    /// exit when the lease is lost (a fresh process rebuilds state as a standby).
    func apply(to configuration: inout ServeConfiguration, settings: Settings) throws {
        guard isEnabled(settings: settings) else { return }
        let leaseText = Self.pick(lease.map { String($0) }, "VIGIL_LEASE", "lease", settings) ?? "3"
        guard let seconds = Double(leaseText), seconds.isFinite, seconds >= 0.5, seconds <= 600 else {
            throw CleanExit.failure("vigil serve: lease \(leaseText) must be a number of seconds from 0.5 to 600 (3 is the default)")
        }
        let node = Self.pick(haNode, "VIGIL_HA_NODE", "ha-node", settings) ?? ProcessInfo.processInfo.hostName
        guard !node.isEmpty, node.allSatisfy({ $0.isLetter || $0.isNumber || "-_.".contains($0) }) else {
            throw CleanExit.failure("vigil serve: ha-node \"\(node)\" must be letters, digits, '-', '_' or '.'")
        }
        let host =
            configuration.feed.host == "0.0.0.0" || configuration.feed.host == "::" ? ProcessInfo.processInfo.hostName : configuration.feed.host
        let address = Self.pick(haAdvertise, "VIGIL_HA_ADVERTISE", "ha-advertise", settings) ?? "\(host):\(configuration.feed.port)"
        var settings = HighAvailability(lease: .milliseconds(Int64((seconds * 1000).rounded())), node: node, feedAddress: address)
        settings.onLost = { reason in
            // Exit rather than carry on: this process's windows and profiles are stale now,
            // and a fresh start as a standby rebuilds them from the new leader's commits.
            FileHandle.standardError.write(
                Data(
                    "vigil serve: lost the leadership lease (\(reason)); exiting with status \(Self.lostLeaseStatus) so the service manager starts this node again as a standby\n"
                        .utf8))
            // At once (no exit handlers): every socket closes now, so senders move on now.
            _exit(Self.lostLeaseStatus)
        }
        configuration.highAvailability = settings
        // Each node's sessions are told apart in pg_stat_activity (vigil-<node>, vigil-<node>-lease).
        configuration.database.applicationName = "vigil-\(node)"
    }
}
