import Foundation

#if canImport(Glibc)
import Glibc
#endif

/// Many plain blocking TCP connections to 127.0.0.1, for tests that need more of them
/// than an async client is worth (a thousand idle or refused connections).
final class RawSockets {
    private(set) var descriptors: [Int32] = []

    deinit { closeAll() }

    /// Raises this process's soft descriptor limit to at least `wanted` (up to the hard
    /// limit); returns the limit now in force.
    @discardableResult
    static func raiseOpenFileLimit(to wanted: Int) -> Int {
        var limit = rlimit()
        guard getrlimit(Int32(RLIMIT_NOFILE.rawValue), &limit) == 0 else { return 0 }
        if limit.rlim_cur < rlim_t(wanted) {
            limit.rlim_cur = min(rlim_t(wanted), limit.rlim_max)
            _ = setrlimit(Int32(RLIMIT_NOFILE.rawValue), &limit)
            _ = getrlimit(Int32(RLIMIT_NOFILE.rawValue), &limit)
        }
        return Int(clamping: limit.rlim_cur)
    }

    /// Opens one connection (connect gives up after 5 s); the descriptor, or nil.
    @discardableResult
    func connect(port: Int) -> Int32? {
        let fd = socket(AF_INET, Int32(SOCK_STREAM.rawValue), 0)
        guard fd >= 0 else { return nil }
        var timeout = timeval(tv_sec: 5, tv_usec: 0)
        setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &timeout, socklen_t(MemoryLayout<timeval>.size))
        setsockopt(fd, SOL_SOCKET, SO_SNDTIMEO, &timeout, socklen_t(MemoryLayout<timeval>.size))
        var address = sockaddr_in()
        address.sin_family = sa_family_t(AF_INET)
        address.sin_port = UInt16(port).bigEndian
        address.sin_addr.s_addr = inet_addr("127.0.0.1")
        let connected = withUnsafePointer(to: &address) {
            $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { Glibc.connect(fd, $0, socklen_t(MemoryLayout<sockaddr_in>.size)) }
        }
        guard connected == 0 else {
            close(fd)
            return nil
        }
        descriptors.append(fd)
        return fd
    }

    /// The descriptors that have something to read (a line, or the end) within `timeout`.
    func readable(within timeout: Duration) -> Set<Int32> {
        var fds = descriptors.map { pollfd(fd: $0, events: Int16(POLLIN), revents: 0) }
        let milliseconds = Int32(timeout.components.seconds * 1000 + timeout.components.attoseconds / 1_000_000_000_000_000)
        guard poll(&fds, nfds_t(fds.count), milliseconds) > 0 else { return [] }
        return Set(fds.filter { $0.revents & Int16(POLLIN | POLLHUP | POLLERR) != 0 }.map(\.fd))
    }

    /// Everything `fd` receives until the peer closes (or 5 s of silence); `closed` tells
    /// whether the end was a close (EOF or reset) rather than the timeout.
    func readToEnd(_ fd: Int32) -> (text: String, closed: Bool) {
        var received: [UInt8] = []
        var chunk = [UInt8](repeating: 0, count: 4096)
        while true {
            let n = chunk.withUnsafeMutableBytes { recv(fd, $0.baseAddress, $0.count, 0) }
            if n > 0 {
                received.append(contentsOf: chunk[0..<n])
                continue
            }
            let closed = n == 0 || errno == ECONNRESET
            return (String(decoding: received, as: UTF8.self), closed)
        }
    }

    /// Sends `line` and a newline on `fd` and reads one reply line (5 s at most).
    func exchange(_ fd: Int32, line: String) -> String? {
        let bytes = Array((line + "\n").utf8)
        guard bytes.withUnsafeBytes({ send(fd, $0.baseAddress, $0.count, Int32(MSG_NOSIGNAL)) }) == bytes.count else { return nil }
        var received: [UInt8] = []
        var byte: UInt8 = 0
        while recv(fd, &byte, 1, 0) == 1 {
            if byte == 10 { return String(decoding: received, as: UTF8.self) }
            received.append(byte)
        }
        return nil
    }

    /// Closes some of the connections (the last `count` opened).
    func close(last count: Int) {
        for fd in descriptors.suffix(count) { Glibc.close(fd) }
        descriptors.removeLast(min(count, descriptors.count))
    }

    /// Closes `fd` alone.
    func close(_ fd: Int32) {
        Glibc.close(fd)
        descriptors.removeAll { $0 == fd }
    }

    func closeAll() {
        for fd in descriptors { Glibc.close(fd) }
        descriptors = []
    }
}

/// Open descriptors of process `pid` (from /proc), or nil once it is gone.
func openDescriptors(pid: Int32) -> Int? {
    (try? FileManager.default.contentsOfDirectory(atPath: "/proc/\(pid)/fd"))?.count
}

/// CPU time (user + system) process `pid` has used, from /proc/PID/stat.
func cpuTime(pid: Int32) -> Duration? {
    guard let stat = try? String(contentsOfFile: "/proc/\(pid)/stat", encoding: .utf8),
        let end = stat.lastIndex(of: ")")
    else { return nil }
    // Fields after the command name: state is field 3; utime and stime are 14 and 15.
    let fields = stat[stat.index(after: end)...].split(separator: " ")
    guard fields.count > 13, let user = Int(fields[11]), let system = Int(fields[12]) else { return nil }
    let ticks = sysconf(Int32(_SC_CLK_TCK))
    guard ticks > 0 else { return nil }
    return .milliseconds((user + system) * 1000 / ticks)
}
