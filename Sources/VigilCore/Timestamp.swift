/// An instant in UTC, held as whole microseconds since the Unix epoch.
///
/// Microseconds keep RFC 3339 fractions exact to PostgreSQL's `timestamptz` precision
/// and fit an `Int64` for ±292,000 years, so arithmetic on it never traps in practice.
public struct Timestamp: Sendable, Hashable, Comparable, CustomStringConvertible {
    /// Microseconds since 1970-01-01T00:00:00Z.
    public var microsecondsSinceEpoch: Int64

    /// Creates a timestamp from microseconds since the Unix epoch.
    public init(microsecondsSinceEpoch: Int64) {
        self.microsecondsSinceEpoch = microsecondsSinceEpoch
    }

    /// Creates a timestamp from whole seconds since the Unix epoch.
    public init(secondsSinceEpoch: Int64) {
        self.microsecondsSinceEpoch = secondsSinceEpoch &* 1_000_000
    }

    /// Whole seconds since the Unix epoch (rounded toward negative infinity).
    public var secondsSinceEpoch: Int64 {
        let (q, r) = microsecondsSinceEpoch.quotientAndRemainder(dividingBy: 1_000_000)
        return r < 0 ? q - 1 : q
    }

    public static func < (lhs: Timestamp, rhs: Timestamp) -> Bool {
        lhs.microsecondsSinceEpoch < rhs.microsecondsSinceEpoch
    }

    /// The timestamp `microseconds` later (saturating instead of trapping).
    public func adding(microseconds: Int64) -> Timestamp {
        let (sum, overflow) = microsecondsSinceEpoch.addingReportingOverflow(microseconds)
        return Timestamp(microsecondsSinceEpoch: overflow ? (microseconds > 0 ? .max : .min) : sum)
    }

    /// RFC 3339 text in UTC with microseconds, e.g. `2026-11-24T10:15:00.123000Z`.
    public var description: String { RFC3339.format(self) }
}

#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

extension Timestamp {
    /// The current wall-clock time (CLOCK_REALTIME), in UTC.
    public static func now() -> Timestamp {
        var ts = timespec()
        clock_gettime(CLOCK_REALTIME, &ts)
        return Timestamp(microsecondsSinceEpoch: Int64(ts.tv_sec) * 1_000_000 + Int64(ts.tv_nsec) / 1_000)
    }
}
