// swift-tools-version:6.0
// Benchmarks, kept out of the product: fwctl's own code side by side with what a user would pick instead.
// `make bench` builds this package in release mode and runs it.
import PackageDescription

let package = Package(
    name: "fwctl-benchmarks",
    dependencies: [
        .package(name: "fwctl", path: ".."),
        .package(url: "https://github.com/hummingbird-project/swift-mustache", from: "2.1.1"),
    ],
    targets: [
        .executableTarget(
            name: "TemplateBench",
            dependencies: [
                .product(name: "FWTemplate", package: "fwctl"),
                .product(name: "Mustache", package: "swift-mustache"),
            ]
        ),
    ],
    swiftLanguageModes: [.v6]
)
