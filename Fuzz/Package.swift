// swift-tools-version:6.0
// libFuzzer targets for fwctl's parsers, one executable per target, built with -sanitize=fuzzer:
//   swift build --package-path Fuzz -c release -Xswiftc -sanitize=fuzzer -Xswiftc -parse-as-library --product NAME
// `make fuzz` builds and runs them for a bounded time (FUZZ_SECONDS); crashes land in Fuzz/crashes/.
// Each target file exports `LLVMFuzzerTestOneInput` with @_cdecl, and also `<Target>_main` forwarding to
// libFuzzer's `LLVMFuzzerRunDriver`: SwiftPM links executables with `main` aliased to `<Target>_main`, so without
// it the link fails ("undefined symbol 'FuzzTemplate_main'") and libFuzzer's own main would never run.
import PackageDescription

let package = Package(
    name: "fwctl-fuzz",
    dependencies: [
        .package(name: "fwctl", path: ".."),
    ],
    targets: [
        .executableTarget(
            name: "FuzzTemplate",
            dependencies: [.product(name: "FWTemplate", package: "fwctl")]
        ),
        .executableTarget(
            name: "FuzzInventoryINI",
            dependencies: [.product(name: "FWInventory", package: "fwctl")]
        ),
        .executableTarget(
            name: "FuzzPolicy",
            dependencies: [.product(name: "FWPolicy", package: "fwctl"), .product(name: "FWBase", package: "fwctl")]
        ),
    ],
    swiftLanguageModes: [.v6]
)
