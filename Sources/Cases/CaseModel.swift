/// Where a case is in its life: `open → in_review → closed` (and back from review to open).
public enum CaseStatus: String, Sendable, CaseIterable {
    case open
    case inReview = "in_review"
    case closed
}

/// What an investigator concluded when closing a case; it applies to every alert of it.
public enum Disposition: String, Sendable, CaseIterable {
    /// Confirmed fraud.
    case fraud
    /// A false positive.
    case legitimate
    /// Neither could be established.
    case inconclusive

    /// Whether closing with this disposition needs a reason: a case that is not fraud must
    /// say why, so a rule's false positives can be reviewed later.
    public var requiresReason: Bool { self != .fraud }
}
