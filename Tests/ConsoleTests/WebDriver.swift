import AsyncHTTPClient
import Foundation
import NIOCore
import VigilTesting

#if canImport(Glibc)
import Glibc
#endif

/// A small client of the W3C WebDriver protocol (JSON over HTTP) driving Debian's
/// headless Chromium through `chromedriver`: enough to sign in, read, click and take
/// screenshots as a person would.
final class WebDriver: Sendable {
    struct Failure: Error, CustomStringConvertible {
        var description: String
    }

    let base: String
    let session: String
    static let client = HTTPClient(eventLoopGroupProvider: .singleton)

    /// Starts chromedriver (on a free port it picks) and a headless browser of `width`×`height`,
    /// runs `body`, then ends both whatever happens.
    static func with<R: Sendable>(width: Int = 1280, height: Int = 800, _ body: (WebDriver) async throws -> R) async throws -> R {
        guard let chromedriver = ["/usr/bin/chromedriver", "/usr/lib/chromium/chromedriver"].first(where: FileManager.default.isExecutableFile)
        else {
            throw Failure(
                description:
                    "chromedriver is not installed: run scripts/install-deps.sh --browser (it installs chromium and chromium-driver), or make test-browser"
            )
        }
        let log = FileManager.default.temporaryDirectory.appendingPathComponent("vigil-chromedriver-\(UUID().uuidString).log")
        FileManager.default.createFile(atPath: log.path, contents: nil)
        defer { try? FileManager.default.removeItem(at: log) }
        let process = Process()
        process.executableURL = URL(fileURLWithPath: chromedriver)
        process.arguments = ["--port=0"]
        let output = try FileHandle(forWritingTo: log)
        process.standardOutput = output
        process.standardError = output
        try process.run()
        do {
            let result = try await session(process: process, log: log, width: width, height: height, body)
            await stop(process)
            return result
        } catch {
            await stop(process)
            throw error
        }
    }

    /// Ends chromedriver (which ends its browsers), waiting for it with a deadline rather
    /// than `waitUntilExit`, which spins a run loop.
    private static func stop(_ process: Process) async {
        process.terminate()
        if await !eventually(timeout: .seconds(10), { !process.isRunning }) {
            kill(process.processIdentifier, SIGKILL)
        }
    }

    /// Opens a browser session on the chromedriver that writes to `log`, runs `body`, closes it.
    private static func session<R: Sendable>(
        process: Process, log: URL, width: Int, height: Int, _ body: (WebDriver) async throws -> R
    ) async throws -> R {
        var port: Int?
        try await waitUntil(within: .seconds(30), "chromedriver to say its port") {
            let text = (try? String(contentsOf: log, encoding: .utf8)) ?? ""
            guard let range = text.range(of: "started successfully on port ") else { return false }
            port = Int(text[range.upperBound...].prefix { $0.isNumber })
            return port != nil
        }
        guard let port else { throw Failure(description: "chromedriver did not start") }
        let base = "http://127.0.0.1:\(port)"
        let capabilities: [String: Any] = [
            "capabilities": [
                "alwaysMatch": [
                    "browserName": "chrome",
                    "goog:chromeOptions": [
                        "binary": "/usr/bin/chromium",
                        "args": [
                            "--headless=new", "--no-sandbox", "--disable-gpu", "--disable-dev-shm-usage", "--window-size=\(width),\(height)",
                            "--force-device-scale-factor=1", "--lang=en-GB",
                        ],
                    ],
                ]
            ]
        ]
        let created = try await call("POST", base + "/session", capabilities)
        guard let value = created["value"] as? [String: Any], let session = value["sessionId"] as? String else {
            throw Failure(description: "chromedriver did not open a browser session: \(created)")
        }
        let driver = WebDriver(base: base + "/session/" + session, session: session)
        do {
            let result = try await body(driver)
            _ = try? await call("DELETE", driver.base, nil)
            return result
        } catch {
            _ = try? await call("DELETE", driver.base, nil)
            throw error
        }
    }

    private init(base: String, session: String) {
        self.base = base
        self.session = session
    }

    /// Opens `url` and waits for the page to load.
    func navigate(_ url: String) async throws { _ = try await command("POST", "/url", ["url": url]) }

    /// The current URL.
    func currentURL() async throws -> String { try await command("GET", "/url", nil) as? String ?? "" }

    /// The element matching `css`, or nil.
    func find(_ css: String) async throws -> String? {
        let reply = try await Self.call("POST", base + "/element", ["using": "css selector", "value": css])
        guard let value = reply["value"] as? [String: Any] else { return nil }
        return value.first { $0.key.hasPrefix("element-") }?.value as? String
    }

    /// The element matching `css`, waiting for it to appear.
    func element(_ css: String, within timeout: Duration = .seconds(20)) async throws -> String {
        var found: String?
        try await waitUntil(within: timeout, "an element matching \(css)") {
            found = try await find(css)
            return found != nil
        }
        guard let found else { throw Failure(description: "no element matches \(css)") }
        return found
    }

    func click(_ element: String) async throws { _ = try await command("POST", "/element/\(element)/click", [:]) }

    func type(_ text: String, into element: String) async throws { _ = try await command("POST", "/element/\(element)/value", ["text": text]) }

    func text(of element: String) async throws -> String { try await command("GET", "/element/\(element)/text", nil) as? String ?? "" }

    func attribute(_ name: String, of element: String) async throws -> String? {
        try await command("GET", "/element/\(element)/attribute/\(name)", nil) as? String
    }

    /// Runs `script` in the page and returns its result.
    func execute(_ script: String, _ arguments: [Any] = []) async throws -> Any? {
        try await command("POST", "/execute/sync", ["script": script, "args": arguments])
    }

    /// Sends keys to the page (keyboard navigation) through the focused element or body.
    func pressKeys(_ keys: String) async throws {
        let actions: [[String: Any]] = keys.map { ["type": "keyDown", "value": String($0)] } + keys.map { ["type": "keyUp", "value": String($0)] }
        _ = try await command("POST", "/actions", ["actions": [["type": "key", "id": "keyboard", "actions": actions]]])
    }

    func setWindowSize(width: Int, height: Int) async throws {
        _ = try await command("POST", "/window/rect", ["width": width, "height": height])
    }

    /// A PNG of the viewport, written to `file`.
    func screenshot(to file: URL) async throws {
        guard let base64 = try await command("GET", "/screenshot", nil) as? String, let data = Data(base64Encoded: base64) else {
            throw Failure(description: "the browser returned no screenshot")
        }
        try FileManager.default.createDirectory(at: file.deletingLastPathComponent(), withIntermediateDirectories: true)
        try data.write(to: file)
    }

    private func command(_ method: String, _ path: String, _ body: [String: Any]?) async throws -> Any? {
        let reply = try await Self.call(method, base + path, body)
        if let value = reply["value"] as? [String: Any], let error = value["error"] as? String {
            throw Failure(description: "WebDriver \(method) \(path): \(error): \(value["message"] ?? "")")
        }
        return reply["value"]
    }

    private static func call(_ method: String, _ url: String, _ body: [String: Any]?) async throws -> [String: Any] {
        var request = HTTPClientRequest(url: url)
        request.method = .init(rawValue: method)
        if let body {
            request.headers.add(name: "Content-Type", value: "application/json")
            request.body = .bytes(ByteBuffer(bytes: try JSONSerialization.data(withJSONObject: body)))
        }
        let response = try await client.execute(request, timeout: .seconds(60))
        let bytes = try await response.body.collect(upTo: 32 * 1024 * 1024)
        guard let object = try JSONSerialization.jsonObject(with: Data(bytes.readableBytesView)) as? [String: Any] else {
            throw Failure(description: "WebDriver \(method) \(url) answered \(response.status) with no JSON object")
        }
        return object
    }
}
