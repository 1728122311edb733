// swift-tools-version:6.1
import PackageDescription

/// One set of Swift settings for every target (as hummingbird does): Swift 6 language
/// mode everywhere, and the upcoming features that catch concurrency mistakes early.
let swiftSettings: [SwiftSetting] = [
    .swiftLanguageMode(.v6),
    .enableUpcomingFeature("ExistentialAny"),
]
/// For the modules on every record's path whose generic code the pipeline calls: with
/// their bodies visible to their callers in release builds, generic calls across modules
/// are specialized instead of looking up generic metadata at run time. Not PostgresStore:
/// with it, the Swift 6 compiler stops on a module that imports it ("circular reference").
let hotPathSettings = swiftSettings + [.unsafeFlags(["-cross-module-optimization"], .when(configuration: .release))]

let package = Package(
    name: "vigil",
    platforms: [.macOS(.v15)],
    products: [
        .executable(name: "vigil", targets: ["vigil"]),
        .library(name: "RuleLanguage", targets: ["RuleLanguage"]),
        .library(name: "FeedProtocol", targets: ["FeedProtocol"]),
        .library(name: "ISO8583", targets: ["ISO8583"]),
        .library(name: "FeedGenerator", targets: ["FeedGenerator"]),
        .library(name: "PostgresStore", targets: ["PostgresStore"]),
        .library(name: "Detection", targets: ["Detection"]),
    ],
    dependencies: [
        .package(url: "https://github.com/apple/swift-argument-parser.git", from: "1.5.0"),
        .package(url: "https://github.com/apple/swift-log.git", from: "1.6.0"),
        .package(url: "https://github.com/apple/swift-metrics.git", from: "2.5.0"),
        .package(url: "https://github.com/apple/swift-collections.git", from: "1.1.0"),
        .package(url: "https://github.com/swift-server/swift-service-lifecycle.git", from: "2.6.0"),
        .package(url: "https://github.com/apple/swift-nio.git", from: "2.80.0"),
        .package(url: "https://github.com/swift-server/swift-prometheus.git", from: "2.1.0"),
        .package(url: "https://github.com/swift-server/async-http-client.git", from: "1.24.0"),
        .package(url: "https://github.com/apple/swift-crypto.git", "3.12.0"..<"5.0.0"),
        .package(url: "https://github.com/HdrHistogram/hdrhistogram-swift.git", from: "0.1.0"),
        .package(url: "https://github.com/apple/swift-nio-ssl.git", from: "2.29.0"),
        // Reads a client certificate's subject (the feed records who sent what); already
        // in the graph through swift-nio-ssl and async-http-client.
        .package(url: "https://github.com/apple/swift-certificates.git", from: "1.10.0"),
        // The HTTP endpoints (ops, later the investigator API): router, middleware, server.
        // Its default traits (a swift-configuration reader, full Foundation) are not used.
        .package(url: "https://github.com/hummingbird-project/hummingbird.git", from: "2.28.1", traits: []),
        // Parses ISO 20022 (pacs.008) XML; through FoundationXML (libxml2) on Linux.
        .package(url: "https://github.com/drmohundro/SWXMLHash.git", from: "8.1.1"),
        // Test-only: reads docs/api/openapi.yaml so the API tests check every response against it.
        .package(url: "https://github.com/jpsim/Yams.git", from: "5.0.1"),
        // The investigator console's server-rendered HTML (templates compiled into the binary).
        .package(url: "https://github.com/hummingbird-project/swift-mustache.git", from: "2.1.1"),
    ],
    targets: [
        // MARK: pure modules (no I/O)
        .target(
            name: "VigilCore",
            swiftSettings: hotPathSettings
        ),
        .target(
            name: "RuleLanguage",
            dependencies: ["VigilCore"],
            swiftSettings: hotPathSettings
        ),
        .target(
            name: "FeedProtocol",
            dependencies: ["VigilCore"],
            swiftSettings: hotPathSettings
        ),
        // ISO 8583 packing and unpacking (dialects from packager files) and the mapping to
        // feed records; pure: the listener lives in FeedServer.
        .target(
            name: "ISO8583",
            dependencies: ["VigilCore", "FeedProtocol"],
            swiftSettings: hotPathSettings
        ),
        // ISO 20022 pacs.008 credit transfers in, pacs.002 status reports out (pure).
        .target(
            name: "ISO20022",
            dependencies: ["VigilCore", "FeedProtocol", .product(name: "SWXMLHash", package: "SWXMLHash")],
            swiftSettings: swiftSettings
        ),
        .target(
            name: "Supervision",
            dependencies: [
                .product(name: "Logging", package: "swift-log"),
                .product(name: "Metrics", package: "swift-metrics"),
                .product(name: "ServiceLifecycle", package: "swift-service-lifecycle"),
                .product(name: "DequeModule", package: "swift-collections"),
            ],
            // The mailboxes are generic and every stage calls them.
            swiftSettings: hotPathSettings
        ),

        // MARK: I/O modules
        .systemLibrary(
            name: "CLibPQ",
            pkgConfig: "libpq",
            providers: [.apt(["libpq-dev"])]
        ),
        .target(
            name: "PostgresStore",
            dependencies: [
                "CLibPQ",
                "VigilCore",
                .product(name: "Crypto", package: "swift-crypto"),
            ],
            swiftSettings: swiftSettings
        ),
        // Generates feeds and seeds their reference data into PostgreSQL (so: I/O).
        .target(
            name: "FeedGenerator",
            dependencies: ["VigilCore", "FeedProtocol", "PostgresStore"],
            swiftSettings: swiftSettings
        ),

        .target(
            name: "Secrets",
            dependencies: [.product(name: "Crypto", package: "swift-crypto")],
            swiftSettings: swiftSettings
        ),
        .target(
            name: "FeedServer",
            dependencies: [
                "VigilCore",
                "FeedProtocol",
                "ISO8583",
                "Supervision",
                .product(name: "Crypto", package: "swift-crypto"),
                .product(name: "NIOSSL", package: "swift-nio-ssl"),
                .product(name: "NIOTLS", package: "swift-nio"),
                .product(name: "X509", package: "swift-certificates"),
                .product(name: "NIOCore", package: "swift-nio"),
                .product(name: "NIOPosix", package: "swift-nio"),
                .product(name: "Logging", package: "swift-log"),
                .product(name: "Metrics", package: "swift-metrics"),
                .product(name: "ServiceLifecycle", package: "swift-service-lifecycle"),
                .product(name: "DequeModule", package: "swift-collections"),
            ],
            swiftSettings: swiftSettings
        ),
        .target(
            name: "Detection",
            dependencies: [
                "VigilCore",
                "RuleLanguage",
                "PostgresStore",
            ],
            swiftSettings: hotPathSettings
        ),
        .target(
            name: "Backtest",
            dependencies: [
                "VigilCore",
                "RuleLanguage",
                "PostgresStore",
                "Detection",
            ],
            swiftSettings: swiftSettings
        ),
        .target(
            name: "WebhookDelivery",
            dependencies: [
                "VigilCore",
                "PostgresStore",
                "Secrets",
                "Supervision",
                .product(name: "AsyncHTTPClient", package: "async-http-client"),
                .product(name: "Crypto", package: "swift-crypto"),
                .product(name: "NIOCore", package: "swift-nio"),
                .product(name: "NIOPosix", package: "swift-nio"),
                .product(name: "NIOHTTP1", package: "swift-nio"),
                .product(name: "Logging", package: "swift-log"),
                .product(name: "Metrics", package: "swift-metrics"),
                .product(name: "ServiceLifecycle", package: "swift-service-lifecycle"),
            ],
            swiftSettings: swiftSettings
        ),
        // Cases, dispositions and the investigator API's queries (issue 17): SQL in, JSON out.
        .target(
            name: "Cases",
            dependencies: ["VigilCore", "PostgresStore", "Access"],
            swiftSettings: swiftSettings
        ),
        // API tokens, roles and the audit log: one mechanism for the CLI and every HTTP API.
        .target(
            name: "Access",
            dependencies: [
                "PostgresStore",
                "VigilCore",
                .product(name: "Crypto", package: "swift-crypto"),
            ],
            swiftSettings: swiftSettings
        ),
        // The HTTP layer on Hummingbird: bearer-token auth with roles, Origin check, body
        // limits, JSON errors, server-sent event responses. Routes are added by the wiring.
        .target(
            name: "HTTPAPI",
            dependencies: [
                "Access",
                "VigilCore",
                .product(name: "Hummingbird", package: "hummingbird"),
                .product(name: "NIOCore", package: "swift-nio"),
                .product(name: "Logging", package: "swift-log"),
                .product(name: "ServiceLifecycle", package: "swift-service-lifecycle"),
            ],
            swiftSettings: swiftSettings
        ),
        // The investigator console: sessions from API tokens, CSRF, server-rendered pages.
        .target(
            name: "Console",
            dependencies: [
                "Access",
                "Cases",
                "HTTPAPI",
                "PostgresStore",
                "RuleLanguage",
                "VigilCore",
                .product(name: "Crypto", package: "swift-crypto"),
                .product(name: "Hummingbird", package: "hummingbird"),
                .product(name: "Logging", package: "swift-log"),
                .product(name: "Mustache", package: "swift-mustache"),
                .product(name: "NIOCore", package: "swift-nio"),
            ],
            swiftSettings: swiftSettings
        ),
        .target(
            name: "Pipeline",
            dependencies: [
                "Console",
                "VigilCore",
                "FeedProtocol",
                "FeedServer",
                "ISO8583",
                "ISO20022",
                "PostgresStore",
                "RuleLanguage",
                "Supervision",
                "Detection",
                "WebhookDelivery",
                "Secrets",
                "Access",
                "HTTPAPI",
                "Cases",
                .product(name: "Hummingbird", package: "hummingbird"),
                .product(name: "NIOCore", package: "swift-nio"),
                .product(name: "NIOPosix", package: "swift-nio"),
                .product(name: "Logging", package: "swift-log"),
                .product(name: "Metrics", package: "swift-metrics"),
                .product(name: "ServiceLifecycle", package: "swift-service-lifecycle"),
                .product(name: "UnixSignals", package: "swift-service-lifecycle"),
            ],
            swiftSettings: swiftSettings
        ),

        // MARK: the executable
        .executableTarget(
            name: "vigil",
            dependencies: [
                "VigilCore",
                "RuleLanguage",
                "FeedProtocol",
                "ISO8583",
                "FeedGenerator",
                "Supervision",
                "PostgresStore",
                "FeedServer",
                "Pipeline",
                "WebhookDelivery",
                "Secrets",
                "Backtest",
                "Access",
                "Cases",
                .product(name: "NIOSSL", package: "swift-nio-ssl"),
                .product(name: "Prometheus", package: "swift-prometheus"),
                .product(name: "Histogram", package: "hdrhistogram-swift"),
                .product(name: "Metrics", package: "swift-metrics"),
                .product(name: "ArgumentParser", package: "swift-argument-parser"),
                .product(name: "NIOCore", package: "swift-nio"),
                .product(name: "NIOPosix", package: "swift-nio"),
                .product(name: "ServiceLifecycle", package: "swift-service-lifecycle"),
                .product(name: "Logging", package: "swift-log"),
            ],
            swiftSettings: swiftSettings
        ),

        // MARK: tests
        // Scaffolding only test targets depend on: throwaway databases, `eventually`, mock services.
        .target(
            name: "VigilTesting",
            dependencies: [
                "PostgresStore",
                "Access",
                "Supervision",
                .product(name: "NIOCore", package: "swift-nio"),
                .product(name: "NIOPosix", package: "swift-nio"),
                .product(name: "ServiceLifecycle", package: "swift-service-lifecycle"),
            ],
            swiftSettings: swiftSettings
        ),
        .testTarget(name: "VigilCoreTests", dependencies: ["VigilCore"], swiftSettings: swiftSettings),
        .testTarget(name: "RuleLanguageTests", dependencies: ["RuleLanguage", "VigilCore"], exclude: ["testdata"], swiftSettings: swiftSettings),
        .testTarget(name: "FeedProtocolTests", dependencies: ["FeedProtocol", "VigilCore"], swiftSettings: swiftSettings),
        .testTarget(name: "ISO20022Tests", dependencies: ["ISO20022", "FeedProtocol", "VigilCore"], swiftSettings: swiftSettings),
        .testTarget(name: "ISO8583Tests", dependencies: ["ISO8583", "FeedProtocol", "VigilCore"], swiftSettings: swiftSettings),
        .testTarget(name: "FeedGeneratorTests", dependencies: ["FeedGenerator", "FeedProtocol", "VigilCore"], swiftSettings: swiftSettings),
        .testTarget(
            name: "SupervisionTests",
            dependencies: [
                "Supervision", "VigilTesting", .product(name: "Logging", package: "swift-log"),
                .product(name: "MetricsTestKit", package: "swift-metrics"), .product(name: "ServiceLifecycle", package: "swift-service-lifecycle"),
            ], swiftSettings: swiftSettings),
        .testTarget(
            name: "FeedServerTests",
            dependencies: [
                "FeedServer", "FeedProtocol", "VigilCore", "VigilTesting", "ISO8583",
                .product(name: "NIOCore", package: "swift-nio"),
                .product(name: "NIOPosix", package: "swift-nio"),
                .product(name: "NIOEmbedded", package: "swift-nio"),
                .product(name: "NIOTestUtils", package: "swift-nio"),
                .product(name: "NIOSSL", package: "swift-nio-ssl"),
                .product(name: "Crypto", package: "swift-crypto"),
                .product(name: "ServiceLifecycle", package: "swift-service-lifecycle"),
            ],
            swiftSettings: swiftSettings
        ),
        .testTarget(name: "SecretsTests", dependencies: ["Secrets"], swiftSettings: swiftSettings),
        .testTarget(
            name: "PipelineTests",
            dependencies: [
                "Pipeline", "Detection", "FeedServer", "FeedProtocol", "FeedGenerator", "PostgresStore", "RuleLanguage", "Supervision",
                "VigilCore", "WebhookDelivery", "VigilTesting", "Secrets", "Backtest", "Access", "HTTPAPI", "ISO8583", "ISO20022",
                "Cases", .product(name: "ServiceLifecycle", package: "swift-service-lifecycle"),
                .product(name: "Yams", package: "Yams"),
            ],
            swiftSettings: swiftSettings
        ),
        .testTarget(
            name: "WebhookDeliveryTests",
            dependencies: [
                "WebhookDelivery", "PostgresStore", "VigilCore", "VigilTesting", "Secrets",
                .product(name: "Crypto", package: "swift-crypto"),
                .product(name: "Logging", package: "swift-log"),
                .product(name: "NIOCore", package: "swift-nio"),
                .product(name: "NIOPosix", package: "swift-nio"),
                .product(name: "NIOHTTP1", package: "swift-nio"),
            ],
            swiftSettings: swiftSettings
        ),
        .testTarget(name: "DetectionTests", dependencies: ["Detection", "RuleLanguage", "VigilCore"], swiftSettings: swiftSettings),
        .testTarget(
            name: "CasesTests", dependencies: ["Cases", "PostgresStore", "VigilCore", "VigilTesting"], swiftSettings: swiftSettings),
        .testTarget(name: "PostgresStoreTests", dependencies: ["PostgresStore", "VigilCore", "VigilTesting"], swiftSettings: swiftSettings),
        .testTarget(
            name: "ConsoleTests",
            dependencies: [
                "Console", "Pipeline", "Access", "HTTPAPI", "PostgresStore", "RuleLanguage", "VigilCore", "VigilTesting", "FeedServer", "Cases",
                .product(name: "AsyncHTTPClient", package: "async-http-client"),
                .product(name: "NIOCore", package: "swift-nio"),
                .product(name: "NIOHTTP1", package: "swift-nio"),
                .product(name: "Metrics", package: "swift-metrics"),
                .product(name: "Prometheus", package: "swift-prometheus"),
            ],
            swiftSettings: swiftSettings
        ),
        .testTarget(
            name: "FaultToleranceTests",
            dependencies: [
                "FeedServer", "PostgresStore", "VigilTesting", .product(name: "NIOCore", package: "swift-nio"),
                .product(name: "NIOPosix", package: "swift-nio"),
            ], swiftSettings: swiftSettings),
    ]
)
