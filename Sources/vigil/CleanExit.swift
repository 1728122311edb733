import ArgumentParser
import Foundation

/// Prints one clear line to standard error and exits non-zero: no stack trace, no trap.
enum CleanExit {
    static func failure(_ message: String, code: Int32 = 1) -> ExitCode {
        FileHandle.standardError.write(Data((message + "\n").utf8))
        return ExitCode(code)
    }
}
