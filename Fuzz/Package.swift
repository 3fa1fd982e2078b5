// swift-tools-version:6.0
// libFuzzer targets for fwctl's parsers, built apart from the main package because -sanitize=fuzzer needs its
// own build: `make fuzz` (or `make fuzz-inventory`). One executable target per parser; each exports
// LLVMFuzzerTestOneInput and is built with -parse-as-library so libFuzzer provides main.
import PackageDescription

let package = Package(
    name: "Fuzz",
    dependencies: [
        .package(name: "fwctl", path: ".."),
    ],
    targets: [
        .executableTarget(
            name: "FuzzInventoryINI",
            dependencies: [.product(name: "FWInventory", package: "fwctl")]
        ),
    ],
    swiftLanguageModes: [.v6]
)
