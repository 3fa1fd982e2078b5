#!/usr/bin/env bash
# Deploy benchmark: HOSTS namespace hosts (each its own sshd, /etc and /var/lib as overlays, its own netfilter), one
# controller namespace, side by side in one run:
#   fwctl deploy --all            (first deploy: every host changes; then a second run: every host unchanged)
#   ansible-playbook deploy.yml   (ansible-core, forks=50, pipelining: the same work on the same hosts: copy the
#                                  rules, validate, back up, detached revert timer, apply, confirm over a new
#                                  connection, persist)
# Both deploy the same rendered iptables rules (fwctl render). Prints a Markdown table (wall times, per-host
# step breakdown of fwctl, the ratio) and writes it with the raw reports to OUT_DIR.
#
# usage: Benchmarks/deploy/run.sh path/to/fwctl [OUT_DIR]     (root; HOSTS=50, ANSIBLE=0 to leave Ansible out)
set -euo pipefail

FWCTL=$(realpath "${1:?usage: run.sh path/to/fwctl [OUT_DIR]}")
OUT=$(realpath -m "${2:-.build/bench-deploy}")
HOSTS=${HOSTS:-50}
ANSIBLE=${ANSIBLE:-1}
HERE=$(dirname "$(realpath "$0")")
REPO=$(realpath "$HERE/../..")
P=fwdb$$
work=$(mktemp -d /tmp/fwctl-bench-deploy.XXXXXX)
mkdir -p "$OUT" /run/sshd

cleanup() {
    for ns in $(ip netns list | awk '{print $1}' | grep "^$P-" || true); do
        ip netns pids "$ns" 2>/dev/null | xargs -r kill -9 2>/dev/null || true
        ip netns del "$ns" 2>/dev/null || true
    done
    rm -rf "$work"
}
trap cleanup EXIT

address() { echo "10.62.$(( $1 / 250 )).$(( $1 % 250 + 2 ))"; }

# The lab: a bridge in its own namespace, the controller at 10.62.255.1, host i at address i; a /16, no route out.
ip netns add "$P-sw"
ip -n "$P-sw" link add br0 type bridge
ip -n "$P-sw" link set br0 up
add_ns() {  # name address
    ip netns add "$P-$1"
    ip link add eth0 netns "$P-$1" type veth peer name "v$P$3" netns "$P-sw"
    ip -n "$P-sw" link set "v$P$3" master br0 up
    ip -n "$P-$1" link set lo up
    ip -n "$P-$1" link set eth0 up
    ip -n "$P-$1" addr add "$2/16" dev eth0
}
add_ns ctl 10.62.255.1 c
ssh-keygen -q -t ed25519 -N '' -C bench-host -f "$work/host_ed25519"
ssh-keygen -q -t ed25519 -N '' -C bench-client -f "$work/id_ed25519"
cp "$work/id_ed25519.pub" "$work/authorized_keys"
: > "$work/known_hosts"
{
    echo "all:"
    echo "  vars: {ansible_user: root, ansible_ssh_private_key_file: $work/id_ed25519}"
    echo "  children:"
    echo "    admin: {hosts: {ctl: {ansible_host: 10.62.255.1}}}"
    echo "    managed:"
    echo "      vars: {firewall: {target: iptables, default: drop, management: [admin], allow: [{from: any, ports: [80, 443], comment: web}, {from: admin, ports: [9100]}]}}"
    echo "      hosts:"
} > "$work/inventory.yml"
for i in $(seq 0 $((HOSTS - 1))); do
    a=$(address "$i"); h="h$i"; d="$work/hosts/$h"
    add_ns "$h" "$a" "$i"
    mkdir -p "$d/etc-up" "$d/etc-work" "$d/var-up" "$d/var-work"
    cat > "$d/sshd_config" <<CONFIG
Port 22
HostKey $work/host_ed25519
AuthorizedKeysFile $work/authorized_keys
UsePAM no
StrictModes no
PermitRootLogin prohibit-password
PasswordAuthentication no
KbdInteractiveAuthentication no
UseDNS no
PrintMotd no
PidFile none
MaxStartups 100
LogLevel ERROR
SetEnv HOME=$d PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin
CONFIG
    # In a subshell, so the shell does not report the daemons as killed jobs at cleanup.
    (ip netns exec "$P-$h" unshare -m --propagation private sh -c "
        mount -t overlay overlay -o lowerdir=/etc,upperdir=$d/etc-up,workdir=$d/etc-work /etc &&
        mount -t overlay overlay -o lowerdir=/var/lib,upperdir=$d/var-up,workdir=$d/var-work /var/lib &&
        mount -t tmpfs tmpfs /run && mkdir -p /run/sshd && exec /usr/sbin/sshd -D -e -f $d/sshd_config" 2>"$d/sshd.log" &)
    echo "$a $(cut -d' ' -f1,2 "$work/host_ed25519.pub")" >> "$work/known_hosts"
    echo "        $h: {ansible_host: $a}" >> "$work/inventory.yml"
done
for i in $(seq 0 $((HOSTS - 1))); do
    for _ in $(seq 200); do
        [ -n "$(ip netns exec "$P-h$i" ss -Hltn 'sport = :22')" ] && break
        sleep 0.05
    done
done
echo "lab: $HOSTS hosts up" >&2

in_ctl() { ip netns exec "$P-ctl" env -u SSH_AUTH_SOCK HOME="$work" NO_COLOR=1 FWCTL_AUDIT_LOG="$work/audit.jsonl" "$@"; }
now() { date +%s.%N; }
fw=(-i "$work/inventory.yml" --known-hosts "$work/known_hosts" --templates "$REPO/templates" --limit managed
    --parallel "${PARALLEL:-50}" --json)

t0=$(now); in_ctl "$FWCTL" deploy "${fw[@]}" > "$OUT/fwctl-first.json" 2>"$OUT/fwctl-first.log"; t1=$(now)
t2=$(now); in_ctl "$FWCTL" deploy "${fw[@]}" > "$OUT/fwctl-second.json" 2>"$OUT/fwctl-second.log"; t3=$(now)
fwctl_first=$(awk "BEGIN { print $t1 - $t0 }"); fwctl_second=$(awk "BEGIN { print $t3 - $t2 }")

ansible_time=
if [ "$ANSIBLE" = 1 ] && [ -x "$REPO/.venv/bin/ansible-playbook" ]; then
    # A fresh copy of the rules each host gets from fwctl render; undo fwctl's deploy so Ansible has work to do.
    "$FWCTL" render -i "$work/inventory.yml" --templates "$REPO/templates" -o "$work/out" --limit managed > /dev/null
    for i in $(seq 0 $((HOSTS - 1))); do
        ip netns exec "$P-h$i" sh -c 'iptables -P INPUT ACCEPT; iptables -D INPUT -j FWCTL-INPUT; iptables -F FWCTL-INPUT; iptables -X FWCTL-INPUT; ip6tables -P INPUT ACCEPT; ip6tables -D INPUT -j FWCTL-INPUT; ip6tables -F FWCTL-INPUT; ip6tables -X FWCTL-INPUT' 2>/dev/null || true
    done
    cat > "$work/ansible.cfg" <<CFG
[defaults]
forks = 50
host_key_checking = True
interpreter_python = /usr/bin/python3
gathering = explicit
stdout_callback = default
[ssh_connection]
pipelining = True
ssh_args = -o ControlMaster=auto -o ControlPersist=60s -o UserKnownHostsFile=$work/known_hosts -o IdentitiesOnly=yes
CFG
    t4=$(now)
    in_ctl env ANSIBLE_CONFIG="$work/ansible.cfg" OUT_DIR="$work/out" "$REPO/.venv/bin/ansible-playbook" \
        -i "$work/inventory.yml" "$HERE/deploy.yml" > "$OUT/ansible.log" 2>&1 || echo "ansible-playbook failed: see $OUT/ansible.log" >&2
    t5=$(now)
    ansible_time=$(awk "BEGIN { print $t5 - $t4 }")
fi

python3 "$HERE/summarize.py" "$OUT" "$HOSTS" "$fwctl_first" "$fwctl_second" "${ansible_time:-}" | tee "$OUT/summary.md"
