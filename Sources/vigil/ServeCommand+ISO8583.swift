import ArgumentParser
import FeedServer
import Foundation
import ISO8583
import Pipeline

/// The ISO 8583 listener's options of `vigil serve` (see docs/iso8583.md).
struct ISO8583Options: ParsableArguments {
    @Option(help: "Port of the ISO 8583 listener [VIGIL_ISO8583_PORT] (default: none, the listener is off).")
    var iso8583Port: Int?
    @Option(help: "Address of the ISO 8583 listener [VIGIL_ISO8583_HOST] (default: the feed's).")
    var iso8583Host: String?
    @Option(help: "Packager file describing the ISO 8583 dialect [VIGIL_ISO8583_PACKAGER] (default Packagers/iso87ascii.json).")
    var iso8583Packager: String?
    @Option(help: "Field 39 answered for a transaction held for review [VIGIL_ISO8583_REVIEW_CODE] (default 00).")
    var iso8583ReviewCode: String?
    @Option(help: "Field 39 answered for a blocked transaction [VIGIL_ISO8583_BLOCK_CODE] (default 05; 59 is suspected fraud).")
    var iso8583BlockCode: String?
    @Option(help: "Field 39 answered for a malformed or refused request [VIGIL_ISO8583_FORMAT_ERROR_CODE] (default 30).")
    var iso8583FormatErrorCode: String?

    /// The settings keys these options read from --config.
    static let settingsKeys: Set<String> = [
        "iso8583-port", "iso8583-host", "iso8583-packager", "iso8583-review-code", "iso8583-block-code", "iso8583-format-error-code",
    ]

    private static func pick(_ flag: String?, _ env: String, _ key: String, _ settings: Settings) -> String? {
        if let flag { return flag }
        if let text = ProcessInfo.processInfo.environment[env], !text.isEmpty { return text }
        return settings.values[key]
    }

    /// Adds the ISO 8583 listener to `configuration` when a port is given: the feed's TLS,
    /// card-number policy, limits and timeouts, with the dialect loaded (and refused, with
    /// every problem's JSON path, if it does not validate).
    func apply(to configuration: inout ServeConfiguration, settings: Settings) throws {
        guard let portText = Self.pick(iso8583Port.map(String.init), "VIGIL_ISO8583_PORT", "iso8583-port", settings) else { return }
        guard let port = Int(portText), (0...65_535).contains(port) else {
            throw CleanExit.failure("vigil serve: iso8583-port \(portText) is not a TCP port (0 to 65535)")
        }
        let path = Self.pick(iso8583Packager, "VIGIL_ISO8583_PACKAGER", "iso8583-packager", settings) ?? "Packagers/iso87ascii.json"
        let packager: ISO8583Packager
        do {
            packager = try ISO8583Packager.load(path: path)
        } catch {
            throw CleanExit.failure("vigil serve: the ISO 8583 packager is not usable; fix it or point --iso8583-packager elsewhere:\n\(error)")
        }
        var codes = ISO8583ResponseCodes()
        codes.review = Self.pick(iso8583ReviewCode, "VIGIL_ISO8583_REVIEW_CODE", "iso8583-review-code", settings) ?? codes.review
        codes.block = Self.pick(iso8583BlockCode, "VIGIL_ISO8583_BLOCK_CODE", "iso8583-block-code", settings) ?? codes.block
        codes.formatError =
            Self.pick(iso8583FormatErrorCode, "VIGIL_ISO8583_FORMAT_ERROR_CODE", "iso8583-format-error-code", settings) ?? codes.formatError
        if let problem = codes.validate() { throw CleanExit.failure("vigil serve: \(problem)") }
        var listener = configuration.feed
        listener.port = port
        listener.host = Self.pick(iso8583Host, "VIGIL_ISO8583_HOST", "iso8583-host", settings) ?? configuration.feed.host
        listener.wire = .iso8583(ISO8583Wire(packager: packager, codes: codes))
        listener.metricsPrefix = "vigil_iso8583"
        // Session ids far above the feed's (microseconds since 1970, about 2^51 today).
        listener.sessionIDBase = 4_000_000_000_000_000_000
        configuration.iso8583 = listener
    }
}
