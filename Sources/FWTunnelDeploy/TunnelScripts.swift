import FWBase
import FWPolicy
import FWTemplate
import Foundation

/// The on-host scripts and the config files of a tunnel's ends, rendered from `templates/tunnel/` (and the deploy
/// library `templates/deploy/lib.sh`, for the systemd detection the revert timer uses) in fwctl's strict, rule-safe
/// mode: every value is checked by the template engine, so none can end a quote in a script or a string in a config.
public struct TunnelScripts: Sendable {
    public let templates: TemplateSet
    public let generator: String

    static let templateNames = ["tunnel/probe.sh", "tunnel/apply.sh", "tunnel/uninstall.sh", "tunnel/home.json", "tunnel/work.json",
                                "tunnel/allowlist", "tunnel/unit.service", "tunnel/supervise.sh"]

    public init(templates: TemplateSet, generator: String) throws(TemplateError) {
        for name in Self.templateNames { _ = try templates.template(named: name) }
        self.templates = templates
        self.generator = generator
    }

    /// A file one end needs, with the probe's name for its checksum.
    public struct EndFile: Sendable {
        public var key: String
        public var file: FileBytes
    }

    func common(_ paths: TunnelEndPaths, host: String) -> TemplateObject {
        var data = TemplateObject()
        data.set("name", .string(paths.tunnel))
        data.set("role", .string(paths.role.rawValue))
        data.set("host", .string(Self.plain(host)))
        data.set("generator", .string(generator))
        data.set("etc", .string(paths.etc))
        data.set("state", .string(paths.state))
        data.set("binary", .string(paths.binary))
        data.set("config", .string(paths.config))
        data.set("unit", .string(paths.unit))
        data.set("unitName", .string(paths.unitName))
        return data
    }

    /// The files whose checksums the probe reports, by key.
    static func probedFiles(_ paths: TunnelEndPaths) -> [(key: String, path: String)] {
        var files = [("binary", paths.binary), ("config", paths.config), ("secret", paths.secret), ("supervisor", paths.supervisor), ("unit", paths.unit)]
        if paths.role == .home { files += [("allowlist", paths.allowlist), ("key", paths.key), ("certificate", paths.certificate)] }
        return files
    }

    public func probe(_ paths: TunnelEndPaths, host: String, interpreter: String?) throws -> [UInt8] {
        var data = common(paths, host: host)
        data.set("interpreter", interpreter.map { .string($0) } ?? .bool(false))
        data.set("files", .list(Self.probedFiles(paths).map { .object(["key": .string($0.key), "path": .string($0.path)]) }))
        return try templates.render("tunnel/probe.sh", .object(data))
    }

    public func apply(_ paths: TunnelEndPaths, host: String, files: [EndFile], generateCertificate: Bool, binaryChanged: Bool,
                      printFingerprint: Bool) throws -> [UInt8] {
        var data = common(paths, host: host)
        data.set("files", .list(files.map { entry in
            .object(["key": .string(entry.key), "path": .string(entry.file.path), "mode": .string(String(entry.file.mode, radix: 8)),
                     "base64": .string(Data(entry.file.bytes).base64EncodedString())])
        }))
        data.set("generateCert", .bool(generateCertificate))
        data.set("binaryChanged", .bool(binaryChanged))
        data.set("fingerprint", .bool(printFingerprint))
        return try templates.render("tunnel/apply.sh", .object(data))
    }

    public func uninstall(_ paths: TunnelEndPaths, host: String) throws -> [UInt8] {
        try templates.render("tunnel/uninstall.sh", .object(common(paths, host: host)))
    }

    // MARK: What the ends read

    public func homeConfig(_ plan: TunnelPlan) throws -> FileBytes {
        let paths = TunnelEndPaths(tunnel: plan.name, role: .home)
        let data: TemplateObject = [
            "agentListen": .string(":\(plan.controlPort)"), "clientListen": .string(":\(plan.clientPort)"),
            "tls": .bool(plan.tls), "certificate": .string(paths.certificate), "key": .string(paths.key),
            "secretFile": .string(paths.secret), "allowlistFile": .string(paths.allowlist),
            "statusSocket": .string(paths.statusSocket), "probeSocket": .string(paths.probeSocket), "service": .string(plan.name),
        ]
        return FileBytes(path: paths.config, bytes: try templates.render("tunnel/home.json", .object(data)), mode: 0o600)
    }

    public func allowlist(_ plan: TunnelPlan) throws -> FileBytes {
        let paths = TunnelEndPaths(tunnel: plan.name, role: .home)
        let data: TemplateObject = [
            "name": .string(plan.name), "generator": .string(generator), "clientPort": .int(Int(plan.clientPort)),
            "origin": .string(Self.plain("\(plan.origin)")),
            "networks": .list(plan.allowlist.map { .object(["network": .string($0.description)]) }),
        ]
        return FileBytes(path: paths.allowlist, bytes: try templates.render("tunnel/allowlist", .object(data)), mode: 0o600)
    }

    /// work's config: `fingerprint` is home's certificate's SHA-256 (nil with tls off).
    public func workConfig(_ plan: TunnelPlan, agent: String, fingerprint: String?) throws -> FileBytes {
        let paths = TunnelEndPaths(tunnel: plan.name, role: .work)
        // Brackets are template text: no value may hold one (rule-safe), so an IPv6 address goes in bare.
        let target = Self.hostAndPort(plan.service)
        let data: TemplateObject = [
            "agent": .string(agent), "homeHost": .string(plan.homeAddress.addressText), "homeV6": .bool(plan.homeAddress.family == .v6),
            "homePort": .int(Int(plan.controlPort)),
            "targetHost": .string(target.host), "targetV6": .bool(target.bracketed), "targetPort": .string(target.port),
            "tls": .bool(plan.tls), "fingerprint": .string(fingerprint ?? ""),
            "secretFile": .string(paths.secret), "statusSocket": .string(paths.statusSocket), "service": .string(plan.name),
            "proxyProtocol": .bool(plan.proxyProtocol),
        ]
        return FileBytes(path: paths.config, bytes: try templates.render("tunnel/work.json", .object(data)), mode: 0o600)
    }

    public func supervisor(_ paths: TunnelEndPaths) throws -> FileBytes {
        FileBytes(path: paths.supervisor, bytes: try templates.render("tunnel/supervise.sh", .object(common(paths, host: ""))), mode: 0o700)
    }

    public func unit(_ paths: TunnelEndPaths) throws -> FileBytes {
        FileBytes(path: paths.unit, bytes: try templates.render("tunnel/unit.service", .object(common(paths, host: ""))), mode: 0o644)
    }

    /// `host:port` or `[v6]:port` (checked by TunnelReader) split into its parts.
    static func hostAndPort(_ text: String) -> (host: String, bracketed: Bool, port: String) {
        let colon = text.lastIndex(of: ":") ?? text.endIndex
        var host = Substring(text[..<colon])
        let bracketed = host.hasPrefix("[") && host.hasSuffix("]")
        if bracketed { host = host.dropFirst().dropLast() }
        return (String(host), bracketed, colon < text.endIndex ? String(text[text.index(after: colon)...]) : "")
    }

    /// A name as a comment may show it: rule-safe characters only, others replaced by `_`.
    static func plain(_ text: String) -> String {
        String(decoding: text.utf8.prefix(200).map { RuleSafety.isAllowed($0) ? $0 : 0x5F }, as: UTF8.self)
    }
}
