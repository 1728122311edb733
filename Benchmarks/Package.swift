// swift-tools-version:6.1
import PackageDescription

/// Micro-benchmarks, kept out of the main package so its build does not need jemalloc or
/// the benchmark plugin. Run with `swift package benchmark` from this directory.
let package = Package(
    name: "VigilBenchmarks",
    platforms: [.macOS(.v15)],
    dependencies: [
        .package(name: "vigil", path: ".."),
        .package(url: "https://github.com/ordo-one/benchmark", from: "1.38.1", traits: ["MallocInterposer"]),
    ],
    targets: [
        .executableTarget(
            name: "RuleEvaluation",
            dependencies: [
                .product(name: "Benchmark", package: "benchmark"),
                .product(name: "RuleLanguage", package: "vigil"),
            ],
            path: "Benchmarks/RuleEvaluation",
            swiftSettings: [.swiftLanguageMode(.v6)],
            plugins: [.plugin(name: "BenchmarkPlugin", package: "benchmark")]
        ),
        .executableTarget(
            name: "FeedDecoding",
            dependencies: [
                .product(name: "Benchmark", package: "benchmark"),
                .product(name: "FeedProtocol", package: "vigil"),
                .product(name: "FeedGenerator", package: "vigil"),
            ],
            path: "Benchmarks/FeedDecoding",
            swiftSettings: [.swiftLanguageMode(.v6)],
            plugins: [.plugin(name: "BenchmarkPlugin", package: "benchmark")]
        ),
        .executableTarget(
            name: "CopyEncoding",
            dependencies: [
                .product(name: "Benchmark", package: "benchmark"),
                .product(name: "FeedProtocol", package: "vigil"),
                .product(name: "FeedGenerator", package: "vigil"),
                .product(name: "PostgresStore", package: "vigil"),
            ],
            path: "Benchmarks/CopyEncoding",
            swiftSettings: [.swiftLanguageMode(.v6)],
            plugins: [.plugin(name: "BenchmarkPlugin", package: "benchmark")]
        ),
        .executableTarget(
            name: "WindowUpdates",
            dependencies: [
                .product(name: "Benchmark", package: "benchmark"),
                .product(name: "RuleLanguage", package: "vigil"),
            ],
            path: "Benchmarks/WindowUpdates",
            swiftSettings: [.swiftLanguageMode(.v6)],
            plugins: [.plugin(name: "BenchmarkPlugin", package: "benchmark")]
        ),
        .executableTarget(
            name: "DetectionState",
            dependencies: [
                .product(name: "Benchmark", package: "benchmark"),
                .product(name: "Detection", package: "vigil"),
                .product(name: "FeedGenerator", package: "vigil"),
                .product(name: "RuleLanguage", package: "vigil"),
            ],
            path: "Benchmarks/DetectionState",
            swiftSettings: [.swiftLanguageMode(.v6)],
            plugins: [.plugin(name: "BenchmarkPlugin", package: "benchmark")]
        ),
    ]
)
