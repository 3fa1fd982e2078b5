#!/usr/bin/env bash
# Lab benchmark: `fwctl lab up` of 50 and 200 generated hosts (wall time until every sshd answers, fwctl's peak RSS,
# the memory (Pss) of everything the lab runs), `lab down` of 200, and `lab probe` of 50 hosts x 3 ports; side by side,
# in the same run, with what one would write instead: a shell script doing the same per host with ip, ssh-keygen
# and sshd (up, down) and one `ip netns exec ... socat` per connect under xargs -P 32 (probe).
# Prints a Markdown table with ratios and writes it to OUT_DIR/lab.md.
#
# usage: Benchmarks/lab/run.sh path/to/fwctl [OUT_DIR]      (root: it makes network namespaces and runs sshd)
set -euo pipefail

FWCTL=$(realpath "${1:?usage: run.sh path/to/fwctl [OUT_DIR]}")
OUT=$(realpath -m "${2:-.build/bench-lab}")
SIZES=${SIZES:-"50 200"}
PROBE_HOSTS=${PROBE_HOSTS:-50}
[ "$(id -u)" = 0 ] || { echo "Benchmarks/lab/run.sh: needs root (network namespaces, sshd)" >&2; exit 1; }

work=$(mktemp -d /tmp/fwctl-bench-lab.XXXXXX)
labs=()
baseline_hosts=0
cleanup() {
    for lab in "${labs[@]}"; do "$FWCTL" lab down --name "$lab" -q >/dev/null 2>&1 || true; done
    baseline_down >/dev/null 2>&1 || true
    rm -rf "$work"
}
trap cleanup EXIT
mkdir -p "$OUT"

# N hosts in private space (10.200.0.0/16), managed from 10.250.0.0/24, where the controller stands.
inventory() {
    local n=$1 file=$2 i
    {
        echo "all:"
        echo "  vars:"
        echo "    ansible_user: ops"
        echo "    firewall: {management: [10.250.0.0/24]}"
        echo "  hosts:"
        for i in $(seq 1 "$n"); do echo "    h$i: {ansible_host: 10.200.$((i / 250)).$((i % 250 + 1))}"; done
    } >"$file"
}
address() { echo "10.200.$(($1 / 250)).$(($1 % 250 + 1))"; }

now() { date +%s.%N; }
elapsed() { echo "$(now) - $1" | bc; }
ratio() { awk -v a="$1" -v b="$2" 'BEGIN { printf "%.1f", a / b }'; }

# Sum of the proportional set size (Pss: shared pages split between their users, so the sshds' shared libraries
# count once) of every process in the lab's namespaces, in MiB.
lab_memory() {
    local prefix=$1
    ip netns list | awk '{print $1}' | grep "^$prefix[-.]" | while read -r ns; do ip netns pids "$ns"; done \
        | while read -r pid; do awk '/^Pss:/ {print $2}' "/proc/$pid/smaps_rollup" 2>/dev/null; done | awk '{s += $1} END {printf "%.0f", s / 1024}'
}

# --- The shell-script way -------------------------------------------------------------------------------------
baseline_up() {
    local n=$1 i ns
    baseline_hosts=$n
    ip netns add bb.sw
    ip -n bb.sw link add br0 type bridge
    ip -n bb.sw link set br0 up
    rm -f "$work"/bb_*
    ssh-keygen -q -t ed25519 -N '' -f "$work/bb_client"
    for i in $(seq 1 "$n"); do
        ns=bb-h$i
        ip netns add "$ns"
        ip link add "v$i" netns bb.sw type veth peer name eth0 netns "$ns"
        ip -n bb.sw link set "v$i" master br0 up
        ip -n "$ns" link set lo up
        ip -n "$ns" link set eth0 up
        ip -n "$ns" addr add "$(address "$i")/16" dev eth0
        ssh-keygen -q -t ed25519 -N '' -f "$work/bb_host$i"
        printf 'ListenAddress %s\nHostKey %s\nPidFile %s\nAuthorizedKeysFile %s\nUsePAM no\nStrictModes no\n' \
            "$(address "$i")" "$work/bb_host$i" "$work/bb_sshd$i.pid" "$work/bb_client.pub" >"$work/bb_sshd$i.conf"
        ip netns exec "$ns" /usr/sbin/sshd -f "$work/bb_sshd$i.conf"
    done
    for i in $(seq 1 "$n"); do
        for _ in $(seq 200); do
            if ip netns exec "bb-h$i" timeout 1 bash -c "exec 3<>/dev/tcp/$(address "$i")/22" 2>/dev/null; then break; fi
            sleep 0.02
        done
    done
}

baseline_down() {
    local i
    for i in $(seq 1 "$baseline_hosts"); do
        [ -f "$work/bb_sshd$i.pid" ] && kill "$(cat "$work/bb_sshd$i.pid")" 2>/dev/null || true
        ip netns del "bb-h$i" 2>/dev/null || true
    done
    ip netns del bb.sw 2>/dev/null || true
    baseline_hosts=0
}

# One process per connect: ip netns exec + socat, 32 at once; from the first BASELINE_SOURCES hosts only (a
# full matrix takes minutes), compared per connect.
BASELINE_SOURCES=${BASELINE_SOURCES:-5}
baseline_probe() {
    local lab=$1 n=$2 i j port
    for i in $(seq 1 "$BASELINE_SOURCES"); do
        for j in $(seq 1 "$n"); do
            [ "$i" = "$j" ] && continue
            for port in 22 80 443; do echo "$lab-h$i $(address "$j") $port"; done
        done
    done >"$work/pairs"
    xargs -P 32 -L 1 sh -c 'ip netns exec "$0" socat -u -T 1 "TCP4:$1:$2,connect-timeout=1" /dev/null 2>/dev/null; true' <"$work/pairs"
    wc -l <"$work/pairs"
}

# --- Runs --------------------------------------------------------------------------------------------------------
rows=()
for n in $SIZES; do
    lab=bench$n
    labs+=("$lab")
    inventory "$n" "$work/hosts$n.yml"
    "$FWCTL" lab down --name "$lab" -q >/dev/null 2>&1 || true
    echo "lab bench: fwctl lab up, $n hosts" >&2
    /usr/bin/time -f "%e %M" -o "$work/time" "$FWCTL" lab up -i "$work/hosts$n.yml" --name "$lab" -q >/dev/null
    read -r up_wall up_rss <"$work/time"
    up_mem=$(lab_memory "$lab")
    ping_ok=$("$FWCTL" lab run --name "$lab" -- "$FWCTL" ping -q --json | grep -c '"ok" : true' || true)

    echo "lab bench: shell script up, $n hosts" >&2
    start=$(now); baseline_up "$n"; base_up=$(elapsed "$start")
    base_mem=$(lab_memory bb)
    start=$(now); baseline_down; base_down=$(elapsed "$start")

    if [ "$n" = "$PROBE_HOSTS" ]; then
        echo "lab bench: probes, $n hosts" >&2
        start=$(now)
        "$FWCTL" lab probe --name "$lab" --ports 22,80,443 --timeout 1 -q >"$work/probe.txt"
        probe_wall=$(elapsed "$start")
        probe_connects=$(( n * (n - 1) * 3 + n * 3 ))
        start=$(now)
        base_connects=$(baseline_probe "$lab" "$n")
        base_probe=$(elapsed "$start")
        rows+=("| probe, $n hosts x 3 ports | $probe_connects connects: $(printf '%.2f' "$probe_wall") s | $base_connects connects: $(printf '%.2f' "$base_probe") s | $(ratio "$(echo "$base_probe / $base_connects" | bc -l)" "$(echo "$probe_wall / $probe_connects" | bc -l)")x per connect |")
    fi

    /usr/bin/time -f "%e %M" -o "$work/time" "$FWCTL" lab down --name "$lab" -q >/dev/null
    read -r down_wall _ <"$work/time"
    rows+=("| up, $n hosts (every sshd answering; $ping_ok/$n fwctl ping ok) | $up_wall s, fwctl peak RSS $((up_rss / 1024)) MiB, lab $up_mem MiB | $(printf '%.2f' "$base_up") s, lab $base_mem MiB | $(ratio "$base_up" "$up_wall")x |")
    rows+=("| down, $n hosts | $down_wall s | $(printf '%.2f' "$base_down") s | $(ratio "$base_down" "$down_wall")x |")
done

{
    echo "| lab, $(nproc) cores | fwctl lab | shell script (ip, ssh-keygen, sshd; socat per connect) | speed-up |"
    echo "|---|---|---|---|"
    printf '%s\n' "${rows[@]}"
} | tee "$OUT/lab.md"
