#!/usr/bin/env bash
# Jump host benchmark: `fwctl ping` of HOSTS inner hosts behind one jump host, against OpenSSH doing the same, in
# one run at parallelism 32:
#   fwctl ping (one session to the jump host carries every inner connection as a direct-tcpip channel)
#   ssh -J (ProxyJump: one new jump connection, with its own login, per inner host), via xargs -P 32
#   ssh through a ControlMaster on the jump host (-o ProxyCommand="ssh -S MASTER -W %h:%p jump"): the best OpenSSH
#   can do, one jump login for all
# each ssh row also with KexAlgorithms=curve25519-sha256, the key exchange libssh2 1.10 has.
#
# The hosts are network namespaces (root): a controller that reaches only the jump host, the jump host on both
# subnets, and one namespace with HOSTS addresses reachable only from the jump host, served by ceil(HOSTS/16) sshds
# (sshd listens on at most 16 sockets). Nothing leaves the machine; everything is removed at exit.
#
# usage: Benchmarks/ssh/jump.sh path/to/fwctl [OUT_DIR]
set -euo pipefail

FWCTL=$(realpath "${1:?usage: jump.sh path/to/fwctl [OUT_DIR]}")
OUT=$(realpath -m "${2:-.build/bench-jump}")
HOSTS=${HOSTS:-100}
RUNS=${RUNS:-3}
HERE=$(dirname "$(realpath "$0")")
NS="fwbj$$"
ctl="$NS-ctl" jump="$NS-jump" inner="$NS-inner" sw="$NS-sw"

work=$(mktemp -d /tmp/fwctl-bench-jump.XXXXXX)
chmod 755 "$work"
cleanup() {
    for ns in "$ctl" "$jump" "$inner" "$sw"; do
        if ip netns list | grep -qw "$ns"; then
            ip netns pids "$ns" 2>/dev/null | xargs -r kill -9 2>/dev/null || true
            ip netns del "$ns" 2>/dev/null || true
        fi
    done
    rm -rf "$work"
}
trap cleanup EXIT
mkdir -p "$OUT" /run/sshd

# A switch namespace with a bridge; each host a namespace with eth0 on it. Two subnets on one bridge: the controller
# (10.93.1.0/24) has no address, and no route, in the inner subnet (10.93.2.0/24).
ip netns add "$sw"
ip -n "$sw" link add br0 type bridge
ip -n "$sw" link set br0 up
i=0
for ns in "$ctl" "$jump" "$inner"; do
    ip netns add "$ns"
    ip link add eth0 netns "$ns" type veth peer name "${NS}v$i" netns "$sw"
    ip -n "$sw" link set "${NS}v$i" master br0 up
    ip -n "$ns" link set lo up
    ip -n "$ns" link set eth0 up
    i=$((i + 1))
done
ip -n "$ctl" addr add 10.93.1.1/24 dev eth0
ip -n "$jump" addr add 10.93.1.2/24 dev eth0
ip -n "$jump" addr add 10.93.2.2/24 dev eth0
addresses=()
for n in $(seq "$HOSTS"); do
    a="10.93.$((2 + (n + 9) / 250)).$(((n + 9) % 250 + 1))"
    addresses+=("$a")
done
# Every inner address on the inner namespace; the jump host gets a route to each /24 used.
for a in "${addresses[@]}"; do ip -n "$inner" addr add "$a/24" dev eth0 2>/dev/null || ip -n "$inner" addr add "$a/32" dev eth0; done
for net in $(printf '%s\n' "${addresses[@]}" | cut -d. -f1-3 | sort -u); do
    [ "$net" = 10.93.2 ] || ip -n "$jump" addr add "$net.2/24" dev eth0
done

ssh-keygen -q -t ed25519 -N '' -C bench-jump -f "$work/host_jump"
ssh-keygen -q -t ed25519 -N '' -C bench-inner -f "$work/host_inner"
mkdir -p "$work/.ssh"
ssh-keygen -q -t ed25519 -N '' -C bench-client -f "$work/.ssh/id_ed25519"
cp "$work/.ssh/id_ed25519.pub" "$work/authorized_keys"
sshd_config() {  # name, listen addresses...
    local name=$1; shift
    {
        echo "Port 22"
        for a in "$@"; do echo "ListenAddress $a"; done
        cat <<CONFIG
HostKey $work/host_$( [ "$name" = jump ] && echo jump || echo inner )
PidFile $work/sshd-$name.pid
AuthorizedKeysFile $work/authorized_keys
UsePAM no
StrictModes no
PermitRootLogin prohibit-password
PasswordAuthentication no
KbdInteractiveAuthentication no
MaxStartups 400
MaxSessions 100
UseDNS no
PrintMotd no
LogLevel ERROR
SetEnv HOME=$work
CONFIG
    } > "$work/sshd-$name.config"
    /usr/sbin/sshd -D -e -f "$work/sshd-$name.config" 2>>"$work/sshd.log" &
}
ip netns exec "$jump" bash -c "$(declare -f sshd_config); work=$work; sshd_config jump 10.93.1.2"
for ((start = 0; start < HOSTS; start += 16)); do
    ip netns exec "$inner" bash -c "$(declare -f sshd_config); work=$work; sshd_config inner$start ${addresses[*]:start:16}"
done
for _ in $(seq 100); do
    ready=$(ls "$work"/sshd-*.pid 2>/dev/null | wc -l)
    [ "$ready" -ge $((1 + (HOSTS + 15) / 16)) ] && break
    sleep 0.05
done

{
    echo "10.93.1.2 $(cut -d' ' -f1,2 "$work/host_jump.pub")"
    for a in "${addresses[@]}"; do echo "$a $(cut -d' ' -f1,2 "$work/host_inner.pub")"; done
} > "$work/.ssh/known_hosts"
{
    echo "[jump]"
    echo "bastion ansible_host=10.93.1.2 ansible_user=root"
    echo "[inner]"
    for i in "${!addresses[@]}"; do echo "h$i ansible_host=${addresses[$i]}"; done
    echo "[inner:vars]"
    echo "ansible_user=root"
    echo "ansible_ssh_common_args='-o ProxyJump=bastion'"
} > "$work/inventory.ini"
printf '%s\n' "${addresses[@]}" > "$work/hosts"

# Nobody's own ~/.ssh or agent takes part: HOME is the work folder, its .ssh has the key and known_hosts, and the
# ssh config applies to the jump connections too (ssh passes -F on to the ssh it runs for -J).
export HOME=$work
unset SSH_AUTH_SOCK
cat > "$work/ssh_config" <<CONFIG
Host *
    BatchMode yes
    ControlMaster no
    StrictHostKeyChecking yes
    UserKnownHostsFile $work/.ssh/known_hosts
    GlobalKnownHostsFile /dev/null
    IdentityFile $work/.ssh/id_ed25519
    User root
CONFIG
cp "$work/ssh_config" "$work/ssh_config_x25519"
echo "    KexAlgorithms curve25519-sha256" >> "$work/ssh_config_x25519"

in_ctl="ip netns exec $ctl"
fwctl_ping="$FWCTL ping ${FWCTL_PING_FLAGS:--q} -i $work/inventory.ini --limit inner --parallel 32 >/dev/null"
ssh_j() { echo "xargs -P 32 -I{} ssh -F $1 -J root@10.93.1.2 {} true < $work/hosts"; }
ssh_cm() { echo "xargs -P 32 -I{} ssh -F $1 -o ProxyCommand='ssh -F $1 -S $work/master -W %h:%p root@10.93.1.2' {} true < $work/hosts"; }
# The master is opened once, before timing, and left open for the whole run (as ControlPersist would).
$in_ctl ssh -F "$work/ssh_config" -M -S "$work/master" -o ControlPersist=yes -N -f root@10.93.1.2

declare -a names commands
add() { names+=("$1"); commands+=("$2"); }
add "fwctl ping, one jump session" "$fwctl_ping"
add "ssh -J, xargs -P 32" "$(ssh_j "$work/ssh_config")"
add "ssh -J, xargs -P 32, curve25519" "$(ssh_j "$work/ssh_config_x25519")"
add "ssh via ControlMaster on the jump, xargs -P 32" "$(ssh_cm "$work/ssh_config")"
add "ssh via ControlMaster on the jump, xargs -P 32, curve25519" "$(ssh_cm "$work/ssh_config_x25519")"

# PAUSE=SECONDS: keep the setup up for that long (printing where it is), for looking at it by hand.
if [ -n "${PAUSE:-}" ]; then echo "paused: work=$work controller=$ctl"; sleep "$PAUSE"; fi

# Every command must succeed for every host before it is timed; and the inner hosts must not be reachable directly.
if $in_ctl ssh -F "$work/ssh_config" -o ConnectTimeout=2 "${addresses[0]}" true 2>/dev/null; then
    echo "benchmark setup wrong: the controller reaches ${addresses[0]} without the jump host" >&2
    exit 1
fi
for i in "${!names[@]}"; do
    if ! $in_ctl bash -c "${commands[$i]}" >/dev/null 2>"$work/check.err"; then
        echo "benchmark setup failed: ${names[$i]}:" >&2
        cat "$work/check.err" "$work/sshd.log" >&2
        exit 1
    fi
done

args=()
for i in "${!names[@]}"; do args+=(-n "${names[$i]}" "${commands[$i]}"); done
$in_ctl hyperfine --shell=bash --warmup 1 --runs "$RUNS" --export-json "$OUT/jump.json" "${args[@]}" >"$OUT/hyperfine.txt"

python3 "$HERE/summarize_jump.py" "$OUT/jump.json" "$HOSTS" | tee "$OUT/jump.md"
