import ArgumentParser
import FeedGenerator
import FeedProtocol
import Foundation
import NIOCore
import NIOPosix
import PostgresStore

extension FeedBenchCommand {
    /// Writes the reference data of `configuration`, as `vigil feed generate` does, for
    /// `vigil feed seed`: the bench's accounts, merchants and lists then exist in the database.
    static func writeReference(_ configuration: GeneratorConfiguration, to path: String) throws {
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.sortedKeys]
        do {
            try encoder.encode(FeedGenerator(configuration: configuration).referenceData).write(to: URL(fileURLWithPath: path))
        } catch {
            throw CleanExit.failure("vigil feed bench: cannot write \(path): \(error)")
        }
        print("wrote the reference data of \(configuration.accountCount) accounts to \(path)")
    }

    /// Writes the first `rows` records of the stream in COPY text format, with the columns
    /// and encodings the writer stage uses, so `\copy transactions (...) FROM file` loads
    /// the same rows the benchmark sends: PostgreSQL's own loading rate is the baseline.
    static func writeCopyFile(_ configuration: GeneratorConfiguration, rows: Int, to path: String) throws {
        guard FileManager.default.createFile(atPath: path, contents: nil), let handle = FileHandle(forWritingAtPath: path) else {
            throw CleanExit.failure("vigil feed bench: cannot create \(path); check that its directory exists and is writable")
        }
        defer { try? handle.close() }
        var encoder = CopyTextEncoder(capacity: 1 << 21)
        var line: [UInt8] = []
        var written = 0
        do {
            for record in FeedGenerator(configuration: configuration) {
                guard written < rows else { break }
                let tx = record.transaction
                line.removeAll(keepingCapacity: true)
                FeedEncoder.append(tx, to: &line, newline: false)
                encoder.appendTransactionRow(tx, rawLine: line)
                written += 1
                if encoder.bytes.count >= 1 << 21 {
                    try handle.write(contentsOf: encoder.bytes)
                    encoder.reset()
                }
            }
            try handle.write(contentsOf: encoder.bytes)
        } catch {
            throw CleanExit.failure("vigil feed bench: cannot write \(path): \(error)")
        }
        print("wrote \(written) rows (COPY text: \(copyColumns)) to \(path)")
    }

    /// The `transactions` columns of `--copy-file`, in order (as the writer stage copies them).
    static let copyColumns =
        "id, account_id, card_id, amount_minor, currency, merchant_id, mcc, country, channel, device_id, ip, latitude, longitude, event_time, raw"

    /// Opens `count` connections that send nothing, reports how many opened, holds them for
    /// `--duration` seconds and closes them: the server's per-connection memory cost.
    func holdIdleConnections(_ count: Int) async throws {
        let group = MultiThreadedEventLoopGroup.singleton
        let host = host
        let port = port
        var channels: [any Channel] = []
        var failures: [String: Int] = [:]
        channels.reserveCapacity(count)
        let batch = 200
        var opened = 0
        while opened < count {
            let size = Swift.min(batch, count - opened)
            let results = await withTaskGroup(of: Result<any Channel, any Error>.self) { tasks in
                for _ in 0..<size {
                    tasks.addTask {
                        do {
                            return .success(try await ClientBootstrap(group: group).connect(host: host, port: port).get())
                        } catch {
                            return .failure(error)
                        }
                    }
                }
                return await tasks.reduce(into: []) { $0.append($1) }
            }
            for result in results {
                switch result {
                case .success(let channel): channels.append(channel)
                case .failure(let error): failures["\(error)", default: 0] += 1
                }
            }
            opened += size
        }
        let failed = failures.values.reduce(0, +)
        // Written unbuffered: a script waits for this line before it samples the server's memory.
        var holding =
            json
            ? "{\"event\":\"holding\",\"idle_connections\":\(channels.count),\"failed\":\(failed)}\n"
            : "holding \(channels.count) idle connections to \(host):\(port) for \(duration) s (\(failed) failed)\n"
        if !json {
            for (error, n) in failures.sorted(by: { $0.value > $1.value }).prefix(3) { holding += "  \(n)× \(error)\n" }
        }
        FileHandle.standardOutput.write(Data(holding.utf8))
        try await Task.sleep(nanoseconds: UInt64(duration * 1e9))
        let stillOpen = channels.filter(\.isActive).count
        for channel in channels { channel.close(promise: nil) }
        if json {
            print("{\"event\":\"closed\",\"idle_connections\":\(channels.count),\"still_open_at_end\":\(stillOpen),\"failed\":\(failed)}")
        } else {
            print("closed \(channels.count) connections (\(stillOpen) were still open at the end)")
        }
        if channels.isEmpty { throw ExitCode(2) }
    }
}
