/// Vigil's release version, printed by `vigil --version` and sent as `User-Agent`.
public enum VigilVersion {
    /// Semantic version of this build.
    public static let current = "0.1.0"
}
