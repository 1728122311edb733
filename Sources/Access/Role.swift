/// What a token may do, ordered: each role may do everything the ones below it may.
///
/// `viewer` reads (alert stream, metrics), `analyst` works cases (the investigator API),
/// `admin` changes how the system runs (rule reload, tokens).
public enum Role: String, Sendable, CaseIterable, Comparable, CustomStringConvertible {
    case viewer
    case analyst
    case admin

    private var rank: Int {
        switch self {
        case .viewer: 0
        case .analyst: 1
        case .admin: 2
        }
    }

    public static func < (lhs: Role, rhs: Role) -> Bool { lhs.rank < rhs.rank }

    public var description: String { rawValue }
}
