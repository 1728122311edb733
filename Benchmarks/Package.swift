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
        .target(
            name: "DetectionFixture",
            dependencies: [
                .product(name: "Detection", package: "vigil"),
                .product(name: "FeedGenerator", package: "vigil"),
                .product(name: "RuleLanguage", package: "vigil"),
            ],
            path: "Benchmarks/DetectionFixture",
            swiftSettings: [.swiftLanguageMode(.v6)]
        ),
        .executableTarget(
            name: "DetectionState",
            dependencies: [
                "DetectionFixture",
                .product(name: "Benchmark", package: "benchmark"),
                .product(name: "Detection", package: "vigil"),
                .product(name: "FeedGenerator", package: "vigil"),
                .product(name: "RuleLanguage", package: "vigil"),
            ],
            path: "Benchmarks/DetectionState",
            swiftSettings: [.swiftLanguageMode(.v6)],
            plugins: [.plugin(name: "BenchmarkPlugin", package: "benchmark")]
        ),
        // The detection step's cost in instructions, for `valgrind --tool=callgrind`
        // (scripts/detection-cost.sh): a ratio that a shared, noisy machine does not blur.
        .executableTarget(
            name: "DetectionCost",
            dependencies: ["DetectionFixture"],
            path: "Benchmarks/DetectionCost",
            swiftSettings: [.swiftLanguageMode(.v6)]
        ),
    ]
)
