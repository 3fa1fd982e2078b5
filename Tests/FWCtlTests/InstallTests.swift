import Foundation
import Testing
import TestSupport

/// `make install`: the built fwctl installed into a temporary prefix works from any folder, with its templates,
/// man page and completions.
@Suite struct InstallTests {
    @Test func installedFwctlRunsFromAnotherFolderAndFindsItsTemplates() throws {
        // `make test` builds generate-manual (ArgumentParser's man page generator) beside the test products.
        try Integration.require(.command("make"), .path(RepoPaths.products.appendingPathComponent("generate-manual").path))
        let prefix = try TemporaryFolder("fwctl-install-prefix")
        defer { prefix.remove() }
        let elsewhere = try TemporaryFolder("fwctl-install-cwd")
        defer { elsewhere.remove() }

        let install = try runProcess("make", [
            "-C", RepoPaths.root.path, "--no-print-directory", "install-built",
            "PREFIX=\(prefix.path("usr"))", "INSTALL_FROM=\(RepoPaths.products.path)",
        ], timeout: 300)
        #expect(install.status == 0, "\(install.stdoutText)\(install.stderrText)")

        let fwctl = prefix.path("usr/bin/fwctl")
        var environment = ProcessInfo.processInfo.environment
        environment["FWCTL_TEMPLATES"] = nil
        environment["FWCTL_INVENTORY"] = nil

        let version = try runProcess(fwctl, ["--version"], environment: environment, currentDirectory: elsewhere.url)
        #expect(version.status == 0)
        #expect(version.stdoutText.split(separator: ".").count == 3, "\(version.stdoutText)")

        // No templates/ in this folder and no FWCTL_TEMPLATES: they must come from PREFIX/share/fwctl/templates.
        let inventory = RepoPaths.root.appendingPathComponent("inventory/example").path
        let render = try runProcess(fwctl, ["render", "-i", inventory, "-o", "out", "-v"],
                                    environment: environment, currentDirectory: elsewhere.url)
        #expect(render.status == 0, "\(render.stderrText)")
        #expect(render.stderrText.contains("templates dir=\(prefix.path("usr/share/fwctl/templates"))"), "\(render.stderrText)")
        let rules = try String(contentsOfFile: elsewhere.path("out/db1/rules.v4"), encoding: .utf8)
        #expect(rules.contains("*filter"))

        let manual = try String(contentsOfFile: prefix.path("usr/share/man/man1/fwctl.1"), encoding: .utf8)
        #expect(manual.contains(".Nm fwctl"))
        #expect(manual.contains("render"), "the man page covers the subcommands")
        for (shell, path) in [("bash", "share/bash-completion/completions/fwctl"), ("zsh", "share/zsh/site-functions/_fwctl"),
                              ("fish", "share/fish/vendor_completions.d/fwctl.fish")] {
            let script = try String(contentsOfFile: prefix.path("usr/\(path)"), encoding: .utf8)
            #expect(script.contains("render") && script.contains("limit"), "\(shell) completion lacks subcommands or options")
        }
        let mode = try FileManager.default.attributesOfItem(atPath: fwctl)[.posixPermissions] as? Int
        #expect(mode == 0o755)
    }
}
