import Access
import Hummingbird
import Logging
import NIOCore
import ServiceLifecycle
import Synchronization

/// Vigil's HTTP endpoint on Hummingbird, run as a service (under the ops supervisor).
///
/// Every request passes, in order: JSON errors, the `Origin` check for state-changing
/// requests, the body limit; then the routes, each public or in a group that requires a
/// role (see ``Router/group(requiring:access:)``). `routes` adds them, and is called on every
/// (re)start of the service, so a restarted server serves the same routes.
public final class HTTPServer: Service, Sendable {
    /// Where to listen and what to accept.
    public struct Configuration: Sendable {
        /// Address and port (0: any free port, see ``HTTPServer/boundPortNumber()``).
        public var host: String
        public var port: Int
        /// The largest request body accepted (64 KiB; the endpoints take small bodies).
        public var maxBodyBytes: Int
        /// Called with the listening channel once bound (to add handlers in front of
        /// Hummingbird's, such as a backoff on failing `accept`).
        public var prepareListener: (@Sendable (any Channel) async -> Void)?

        /// Creates a configuration.
        public init(
            host: String = "127.0.0.1", port: Int = 7401, maxBodyBytes: Int = 64 * 1024,
            prepareListener: (@Sendable (any Channel) async -> Void)? = nil
        ) {
            self.host = host
            self.port = port
            self.maxBodyBytes = maxBodyBytes
            self.prepareListener = prepareListener
        }
    }

    /// Adds the routes to a router that has the common middleware already.
    public typealias Routes = @Sendable (Router<APIRequestContext>, StreamRegistry) -> Void

    private let configuration: Configuration
    private let routes: Routes
    private let logger: Logger
    /// Open event streams, ended at graceful shutdown so their connections close.
    public let streams = StreamRegistry()
    private let bound = Mutex<(port: Int??, waiters: [CheckedContinuation<Int?, Never>])>((nil, []))

    /// Creates the server; nothing listens until `run`.
    public init(configuration: Configuration, logger: Logger = Logger(label: "vigil.http"), routes: @escaping Routes) {
        self.configuration = configuration
        self.routes = routes
        self.logger = logger
    }

    /// The port once bound (waits); `nil` when binding failed.
    public func boundPortNumber() async -> Int? {
        await withCheckedContinuation { continuation in
            let known = bound.withLock { state -> Int?? in
                if let port = state.port { return port }
                state.waiters.append(continuation)
                return nil
            }
            if let known { continuation.resume(returning: known) }
        }
    }

    private func setBound(_ port: Int?) {
        let waiters = bound.withLock { state in
            state.port = .some(port)
            defer { state.waiters = [] }
            return state.waiters
        }
        for waiter in waiters { waiter.resume(returning: port) }
    }

    public func run() async throws {
        let router = Router(context: APIRequestContext.self)
        router.add(middleware: ErrorMiddleware())
        router.add(middleware: OriginCheckMiddleware())
        router.add(middleware: BodyLimitMiddleware(limit: configuration.maxBodyBytes))
        routes(router, streams)
        streams.reset()
        let application = Application(
            router: router,
            server: .http1(configuration: .init(additionalChannelHandlers: [EventStreamHangupHandler()])),
            configuration: .init(address: .hostname(configuration.host, port: configuration.port), serverName: nil, reuseAddress: true),
            onServerRunning: { [self] channel in
                await configuration.prepareListener?(channel)
                let port = channel.localAddress?.port
                logger.info("HTTP endpoint listening", metadata: ["host": "\(configuration.host)", "port": "\(port ?? 0)"])
                setBound(port)
            },
            logger: logger
        )
        do {
            try await withGracefulShutdownHandler {
                try await application.run()
            } onGracefulShutdown: {
                self.streams.finishAll()
            }
        } catch {
            if bound.withLock({ $0.port == nil }) {
                setBound(nil)
                throw HTTPServerError(
                    message: "cannot listen for HTTP on \(configuration.host):\(configuration.port): \(error); "
                        + "choose another --ops-host/--ops-port or stop what holds it")
            }
            throw error
        }
    }
}

/// The HTTP endpoint could not start.
public struct HTTPServerError: Error, Sendable, CustomStringConvertible {
    /// What happened and what to do.
    public var message: String
    public var description: String { message }
}
