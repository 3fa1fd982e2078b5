// swift-tools-version:6.0
// fwctl: firewall rules for a fleet of Linux servers, from one inventory.
//
// Pipeline, data flowing one way:
//   FWTemplate -> FWInventory -> FWPolicy -> FWSSH -> FWDeploy -> FWTunnelDeploy      (FWTunnel beside them)
// all on FWBase (threads, parallel runs, shared values, file bytes), below everything.
// Only FWSSH imports the CLibSSH2 C module. The `fwctl` executable is a thin layer of
// subcommands over these libraries and FWCommandLine (what every executable shares).
import PackageDescription

let argumentParser = Target.Dependency.product(name: "ArgumentParser", package: "swift-argument-parser")
let logging = Target.Dependency.product(name: "Logging", package: "swift-log")
let nio = Target.Dependency.product(name: "NIOCore", package: "swift-nio")
let nioPosix = Target.Dependency.product(name: "NIOPosix", package: "swift-nio")
let nioSSL = Target.Dependency.product(name: "NIOSSL", package: "swift-nio-ssl")
let crypto = Target.Dependency.product(name: "Crypto", package: "swift-crypto")

let package = Package(
    name: "fwctl",
    products: [
        .executable(name: "fwctl", targets: ["fwctl"]),
        .executable(name: "fwtunnel-home", targets: ["fwtunnel-home"]),
        .executable(name: "fwtunnel-work", targets: ["fwtunnel-work"]),
        .library(name: "FWBase", targets: ["FWBase"]),
        .library(name: "FWTemplate", targets: ["FWTemplate"]),
        .library(name: "FWInventory", targets: ["FWInventory"]),
        .library(name: "FWPolicy", targets: ["FWPolicy"]),
    ],
    dependencies: [
        .package(url: "https://github.com/apple/swift-argument-parser", from: "1.8.2"),
        .package(url: "https://github.com/apple/swift-log", from: "1.16.2"),
        .package(url: "https://github.com/jpsim/Yams", from: "6.2.2"),
        .package(url: "https://github.com/apple/swift-nio", from: "2.101.2"),
        .package(url: "https://github.com/apple/swift-nio-ssl", from: "2.37.6"),
        .package(url: "https://github.com/apple/swift-crypto", "3.12.3"..<"5.0.0"),
    ],
    targets: [
        // MARK: C modules
        .systemLibrary(
            name: "CLibSSH2",
            pkgConfig: "libssh2",
            providers: [.apt(["libssh2-1-dev"])]
        ),
        // Linux system calls the Swift Glibc module does not expose (atomic directory exchange, splice and epoll).
        .target(name: "CFWSystem"),

        // MARK: Libraries, one per pipeline stage
        // Below every stage: our own worker threads, the parallel per-item runner, Mutex-backed shared values,
        // the file-bytes type. No dependencies besides the standard library and Synchronization.
        .target(name: "FWBase"),
        // The Mustache engine every output file goes through. No dependencies, by design.
        .target(name: "FWTemplate", dependencies: ["FWBase"]),
        // Ansible inventories (INI, YAML, JSON, scripts, directories) with group_vars/host_vars and host patterns;
        // its values, and data files, as template data.
        .target(
            name: "FWInventory",
            dependencies: ["FWBase", "FWTemplate", .product(name: "Yams", package: "Yams")]
        ),
        // Firewall policy from inventory vars, compiled to typed rules and rendered through the templates.
        .target(
            name: "FWPolicy",
            dependencies: ["FWBase", "FWTemplate", "FWInventory", "CFWSystem"]
        ),
        // SSH transport: the only importer of CLibSSH2; takes plain targets, imports no other stage.
        .target(
            name: "FWSSH",
            dependencies: ["FWBase", "CLibSSH2", logging, .product(name: "Crypto", package: "swift-crypto")]
        ),

        // The inventory's fleet as network-namespace hosts on this machine (fwctl lab): beside deploy, below the
        // executable; runs system programs (ip, sshd, ssh-keygen), never libssh2.
        .target(
            name: "FWLab",
            dependencies: ["FWBase", "FWInventory", "FWPolicy", "CFWSystem"]
        ),

        // Deploy: per host one connection to validate, back up, arm a revert timer and apply, a new one to confirm.
        .target(
            name: "FWDeploy",
            dependencies: ["FWBase", "FWPolicy", "FWSSH", "FWInventory"]
        ),
        // fwctl tunnel install/status/uninstall: the tunnel's ends deployed from the inventory's tunnels list over
        // FWDeploy's shell and FWSSH's sessions; runs the fwtunnel binaries it uploads, imports no FWTunnel code.
        .target(
            name: "FWTunnelDeploy",
            dependencies: ["FWBase", "FWTemplate", "FWInventory", "FWPolicy", "FWSSH", "FWDeploy", crypto]
        ),
        // The reverse tunnel: home (outside the firewall) and work (behind it, dialling out), on SwiftNIO.
        // Beside the pipeline: imports no other fwctl module (FWBase and the system-call shims only).
        .target(
            name: "FWTunnel",
            dependencies: ["FWBase", "CFWSystem", nio, nioPosix, nioSSL, crypto, logging],
            exclude: ["PROTOCOL.md", "CONFIG.md"]
        ),

        // MARK: Command-line front end
        // What every executable shares: terminal output, logging to stderr, exit statuses, the command frame
        // (FWCommand), progress lines. No fwctl stage below it, so fwtunnel-home and fwtunnel-work can use it.
        .target(
            name: "FWCommandLine",
            dependencies: ["FWBase", argumentParser, logging]
        ),
        .executableTarget(
            name: "fwctl",
            dependencies: [argumentParser, logging, "FWBase", "FWCommandLine", "FWTemplate", "FWInventory", "FWPolicy", "FWSSH", "FWLab", "FWDeploy", "FWTunnelDeploy"]
        ),
        .executableTarget(name: "fwtunnel-home", dependencies: ["FWBase", "FWTunnel", "FWCommandLine", argumentParser, logging]),
        .executableTarget(name: "fwtunnel-work", dependencies: ["FWBase", "FWTunnel", "FWCommandLine", argumentParser, logging]),

        // MARK: Tests
        .target(
            name: "TestSupport",
            dependencies: ["CFWSystem"],
            path: "Tests/TestSupport"
        ),
        .testTarget(
            name: "FWPolicyTests",
            dependencies: ["FWBase", "FWPolicy", "TestSupport"],
            exclude: ["Golden", "FuzzRegressions"]
        ),
        .testTarget(
            name: "FWCtlTests",
            dependencies: ["fwctl", "TestSupport"],
            exclude: ["Golden"]
        ),
        .testTarget(
            name: "FWInventoryTests",
            dependencies: ["FWBase", "FWInventory", "TestSupport"],
            exclude: ["Fixtures", "FuzzRegressions"]
        ),
        .testTarget(
            name: "FWTemplateTests",
            dependencies: ["FWTemplate", "TestSupport"],
            exclude: ["FuzzRegressions"]
        ),
        .testTarget(
            name: "FWBaseTests",
            dependencies: ["FWBase"]
        ),
        .testTarget(
            name: "FWCommandLineTests",
            dependencies: ["FWCommandLine", argumentParser, logging]
        ),
        .testTarget(
            name: "FWLabTests",
            dependencies: ["FWLab", "FWPolicy", "FWInventory", "fwctl", "TestSupport"]
        ),
        .testTarget(
            name: "FWDeployTests",
            dependencies: ["FWBase", "FWDeploy", "FWTunnelDeploy", "FWPolicy", "FWInventory", "FWTemplate", "fwctl", "TestSupport"],
            exclude: ["Fixtures"]
        ),
        .testTarget(
            name: "FWTunnelTests",
            dependencies: ["FWTunnel", "TestSupport", logging, nio, nioPosix]
        ),
        .testTarget(
            name: "FWSSHTests",
            dependencies: ["FWBase", "FWSSH", "TestSupport", logging]
        ),
    ],
    swiftLanguageModes: [.v6]
)
