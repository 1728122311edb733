/// Which siblings a supervisor restarts when one child must be restarted (OTP's `strategy`).
public enum SupervisionStrategy: Sendable, Hashable {
    /// Restart only the child that exited.
    case oneForOne
    /// Stop every other child (in reverse start order), then restart all of them in start order.
    case oneForAll
    /// Stop the children started after the exited one (in reverse order), then restart it and them in order.
    case restForOne
}
