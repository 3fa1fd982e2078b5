import Foundation
#if canImport(Glibc)
import Glibc
#endif

/// How `fwctl lab run` starts a command: in the controller namespace, with the lab's `.ssh` folder bound over the
/// user's own in a mount namespace of the command's own (so OpenSSH, which reads ~/.ssh from the passwd entry, and
/// fwctl, which reads it from HOME, both use the lab's key, known_hosts and ssh_config), no ssh-agent, and
/// FWCTL_INVENTORY naming the lab's inventory.
public struct LabRunInvocation: Sendable {
    public var executable: String
    public var arguments: [String]
    public var environment: [String: String]

    public static func make(_ lab: LabName, command: [String], environment: [String: String]) throws(LabError) -> LabRunInvocation {
        try Lab.requireRoot()
        guard let state = try LabState.load(lab), let controller = state.controller else {
            throw LabError("there is no lab named \(lab)", hint: "start it with `fwctl lab up -i INVENTORY\(lab.text == LabName.defaultName ? "" : " --name \(lab)")`")
        }
        guard !LabNetwork.existing([controller.namespace]).isEmpty else {
            throw LabError("lab \(lab) has no controller namespace \(controller.namespace)", hint: "run `fwctl lab up` again")
        }
        guard let ip = LabPaths.program("ip") else { throw LabError("ip is not installed") }
        guard !command.isEmpty else { throw LabError("no command given", hint: "fwctl lab run -- COMMAND [ARGUMENTS...]") }
        let home = getpwuid(getuid()).flatMap { $0.pointee.pw_dir.map { String(cString: $0) } } ?? environment["HOME"] ?? "/root"
        var environment = environment
        environment["SSH_AUTH_SOCK"] = nil
        environment["HOME"] = home
        environment["FWCTL_LAB"] = lab.text
        if environment["FWCTL_INVENTORY"] == nil, state.inventory.count == 1 { environment["FWCTL_INVENTORY"] = state.inventory[0] }
        // `ip netns exec` gives the command a mount namespace of its own (slave to the machine's): the bind mount
        // is seen by the command only. ~/.ssh is created (empty, 0700) when the user has none, as ssh would.
        let script = #"[ -d "$2" ] || mkdir -m 700 "$2" || exit 125; mount --bind "$1" "$2" || exit 125; shift 2; exec "$@""#
        return LabRunInvocation(executable: ip,
                                arguments: [ip, "netns", "exec", controller.namespace, "/bin/sh", "-c", script, "fwctl-lab-run",
                                            LabKeys.sshDirectory(lab), home + "/.ssh"] + command,
                                environment: environment)
    }
}
