import FWBase
import FWTemplate

/// Renders compiled host firewalls through the templates, in strict, rule-safe mode.
public struct FirewallRenderer: Sendable {
    /// A template and the file it becomes.
    public struct Output: Sendable {
        public var template: String
        public var file: String
        /// Written only when the host has named sets (the ipset file).
        public var onlyWithSets: Bool
    }

    /// What each target's host folder holds.
    public static func outputs(for target: FirewallTarget) -> [Output] {
        switch target {
        case .iptables:
            return [Output(template: "iptables/rules.v4", file: "rules.v4", onlyWithSets: false),
                    Output(template: "iptables/rules.v6", file: "rules.v6", onlyWithSets: false),
                    Output(template: "iptables/ipsets", file: "ipsets", onlyWithSets: true)]
        case .ufw:
            return [Output(template: "ufw/user.rules", file: "user.rules", onlyWithSets: false),
                    Output(template: "ufw/user6.rules", file: "user6.rules", onlyWithSets: false),
                    Output(template: "ufw/defaults", file: "ufw-defaults", onlyWithSets: false)]
        case .nftables:
            return [Output(template: "nftables/fwctl.nft", file: "fwctl.nft", onlyWithSets: false)]
        }
    }

    public let templates: TemplateSet
    public let generator: String
    private let data = TemplateData()

    /// Loads every template under `directory` and checks that each target's templates are there.
    public init(templatesDirectory directory: String, generator: String) throws(TemplateError) {
        let templates = try TemplateSet(directory: directory, options: .fwctl)
        try self.init(templates: templates, generator: generator)
    }

    public init(templates: TemplateSet, generator: String) throws(TemplateError) {
        for target in FirewallTarget.allCases {
            for output in Self.outputs(for: target) {
                _ = try templates.template(named: output.template)
            }
        }
        self.templates = templates
        self.generator = generator
    }

    /// The host's files for its target, each with its path in the host's output folder (its file name) and mode
    /// 0644: rules hold no secrets, and iptables-restore, ufw and nft read them as root.
    public func render(_ firewall: HostFirewall) throws(TemplateError) -> [FileBytes] {
        let data = self.data.host(firewall, generator: generator)
        var files: [FileBytes] = []
        for output in Self.outputs(for: firewall.target) where !output.onlyWithSets || !firewall.sets.isEmpty {
            files.append(FileBytes(path: output.file, bytes: try templates.render(output.template, data), mode: 0o644))
        }
        return files
    }
}
