/// When a child that exited is restarted (OTP's child `restart` value).
public enum RestartType: Sendable, Hashable {
    /// Always restarted, whether it returned or threw.
    case permanent
    /// Restarted only when it threw; a normal return leaves it stopped.
    case transient
    /// Never restarted, not even when a sibling's failure restarts a group.
    case temporary

    /// Whether a child of this type is restarted after exiting this way.
    func restarts(afterError: Bool) -> Bool {
        switch self {
        case .permanent: return true
        case .transient: return afterError
        case .temporary: return false
        }
    }
}
