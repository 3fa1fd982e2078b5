/// How a host's rendered files are loaded by the real tools without applying them, in order: what the tests and
/// the policy fuzzer run in a throwaway network namespace, and the one place that knows which tool reads which
/// file. ipsets are really created (the rules that match them need them), so the last command removes them.
public enum LoadCommands {
    /// The commands for `target`, given the path each file was written to (by file name).
    public static func commands(for target: FirewallTarget, paths: [String: String]) -> [[String]] {
        switch target {
        case .iptables:
            var commands: [[String]] = []
            if let ipsets = paths["ipsets"] { commands.append(["ipset", "restore", "-file", ipsets]) }
            commands.append(["iptables-restore", "--test", paths["rules.v4"] ?? "rules.v4"])
            commands.append(["ip6tables-restore", "--test", paths["rules.v6"] ?? "rules.v6"])
            if paths["ipsets"] != nil { commands.append(["ipset", "destroy"]) }
            return commands
        case .ufw:
            // ufw loads its files with iptables-restore -n; the full ufw round trip is in the ufw tests.
            return [["iptables-restore", "-n", "--test", paths["user.rules"] ?? "user.rules"],
                    ["ip6tables-restore", "-n", "--test", paths["user6.rules"] ?? "user6.rules"]]
        case .nftables:
            return [["nft", "-c", "-f", paths["fwctl.nft"] ?? "fwctl.nft"]]
        }
    }
}
