/// Why a supervisor failed.
public struct SupervisorError: Error, CustomStringConvertible {
    /// The kind of failure.
    public struct Code: Sendable, Hashable, CustomStringConvertible {
        private enum Base: Sendable, Hashable {
            case restartIntensityExceeded
        }

        private let base: Base

        /// More children failed within the intensity period than the supervisor may restart.
        public static let restartIntensityExceeded = Code(base: .restartIntensityExceeded)

        /// The code's name.
        public var description: String {
            switch self.base {
            case .restartIntensityExceeded: return "restartIntensityExceeded"
            }
        }
    }

    /// The kind of failure.
    public var code: Code
    /// The supervisor that failed.
    public var supervisor: String
    /// The child whose exit tipped it over.
    public var child: String
    /// What that child threw, if it threw.
    public var underlying: (any Error)?

    /// A message that says what happened and what to look at.
    public var description: String {
        let cause = self.underlying.map { "\($0)" } ?? "exited normally"
        return "supervisor '\(self.supervisor)' gave up (\(self.code)): child '\(self.child)' kept failing (last: \(cause)); "
            + "fix the child's cause or raise the supervisor's restart intensity"
    }
}
