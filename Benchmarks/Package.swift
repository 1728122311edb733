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
    ]
)
