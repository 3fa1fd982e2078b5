#!/usr/bin/env bash
# SSH benchmark: SESSIONS x (connect + host key check + public-key auth + `true`) against one loopback sshd, at
# parallelism 1 and 32, side by side in one run:
#   fwctl ping (libssh2 via FWSSH, one process, worker threads)
#   OpenSSH ssh -o ControlMaster=no -o BatchMode=yes (a loop for p=1, xargs -P 32 for p=32)
#   parallel-ssh (Debian's pssh) -p 1 / -p 32
# Same key, same known_hosts, same sshd (MaxStartups raised). Times with hyperfine; prints a Markdown table with
# wall times, per-session times and ratios, and writes it with the raw JSON to OUT_DIR.
#
# usage: Benchmarks/ssh/run.sh path/to/fwctl [OUT_DIR]     (root: it starts its own sshd on 127.0.0.1)
set -euo pipefail

FWCTL=$(realpath "${1:?usage: run.sh path/to/fwctl [OUT_DIR]}")
OUT=$(realpath -m "${2:-.build/bench-ssh}")
SESSIONS=${SESSIONS:-100}
RUNS=${RUNS:-3}
HERE=$(dirname "$(realpath "$0")")

work=$(mktemp -d /tmp/fwctl-bench-ssh.XXXXXX)
sshd_pid=
cleanup() {
    if [ -n "$sshd_pid" ]; then kill "$sshd_pid" 2>/dev/null || true; wait "$sshd_pid" 2>/dev/null || true; fi
    rm -rf "$work"
}
trap cleanup EXIT
mkdir -p "$OUT" /run/sshd

ssh-keygen -q -t ed25519 -N '' -C bench-host -f "$work/host_ed25519"
ssh-keygen -q -t ed25519 -N '' -C bench-client -f "$work/id_ed25519"
cp "$work/id_ed25519.pub" "$work/authorized_keys"
port=$(python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])')
cat > "$work/sshd_config" <<CONFIG
Port $port
ListenAddress 127.0.0.1
HostKey $work/host_ed25519
PidFile $work/sshd.pid
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
# Debian's bash sources ~/.bashrc for commands run by sshd, and root's may be slow (pyenv init: 0.3 s of CPU per
# session here), which would drown the clients' differences. The commands run with HOME=$work instead (no rc file).
SetEnv HOME=$work
CONFIG
/usr/sbin/sshd -D -e -f "$work/sshd_config" 2>"$work/sshd.log" &
sshd_pid=$!
for _ in $(seq 100); do
    if (exec 3<>"/dev/tcp/127.0.0.1/$port") 2>/dev/null; then break; fi
    sleep 0.05
done

echo "[127.0.0.1]:$port $(cut -d' ' -f1,2 "$work/host_ed25519.pub")" > "$work/known_hosts"
{
    echo "[bench]"
    for i in $(seq "$SESSIONS"); do
        echo "h$i ansible_host=127.0.0.1 ansible_port=$port ansible_user=root ansible_ssh_private_key_file=$work/id_ed25519"
    done
} > "$work/inventory.ini"
for _ in $(seq "$SESSIONS"); do echo "root@127.0.0.1:$port"; done > "$work/pssh_hosts"

# Nobody's own ~/.ssh or agent takes part: every tool uses exactly this key and this known_hosts.
export HOME=$work
unset SSH_AUTH_SOCK
ssh_options="-F /dev/null -o ControlMaster=no -o BatchMode=yes -o UserKnownHostsFile=$work/known_hosts -o GlobalKnownHostsFile=/dev/null -o StrictHostKeyChecking=yes -i $work/id_ed25519"
ssh_one="ssh $ssh_options -p $port root@127.0.0.1 true"
# OpenSSH 9.2 negotiates sntrup761x25519-sha512 (post-quantum, costly); libssh2 1.10 has only curve25519-sha256. The
# "curve25519" rows pin ssh to the key exchange fwctl uses, so the client code is compared like for like.
ssh_x25519="ssh $ssh_options -o KexAlgorithms=curve25519-sha256 -p $port root@127.0.0.1 true"
fwctl_ping="$FWCTL ping -q -i $work/inventory.ini --known-hosts $work/known_hosts"
pssh="parallel-ssh -h $work/pssh_hosts -x '$ssh_options' -t 60"

declare -a names commands
add() { names+=("$1"); commands+=("$2"); }
add "fwctl ping, p=1"  "$fwctl_ping --parallel 1 >/dev/null"
add "ssh loop, p=1"    "for i in \$(seq $SESSIONS); do $ssh_one || exit 1; done"
add "ssh loop, p=1, curve25519" "for i in \$(seq $SESSIONS); do $ssh_x25519 || exit 1; done"
add "pssh -p 1"        "$pssh -p 1 true >/dev/null"
add "fwctl ping, p=32" "$fwctl_ping --parallel 32 >/dev/null"
add "ssh xargs -P 32"  "seq $SESSIONS | xargs -P 32 -I{} $ssh_one"
add "ssh xargs -P 32, curve25519" "seq $SESSIONS | xargs -P 32 -I{} $ssh_x25519"
add "pssh -p 32"       "$pssh -p 32 true >/dev/null"

# Every command must succeed for all sessions before it is timed.
for i in "${!names[@]}"; do
    if ! bash -c "${commands[$i]}" >/dev/null 2>"$work/check.err"; then
        echo "benchmark setup failed: ${names[$i]}:" >&2
        cat "$work/check.err" "$work/sshd.log" >&2
        exit 1
    fi
done

args=()
for i in "${!names[@]}"; do args+=(-n "${names[$i]}" "${commands[$i]}"); done
hyperfine --shell=bash --warmup 1 --runs "$RUNS" --export-json "$OUT/ssh.json" "${args[@]}" >"$OUT/hyperfine.txt"

python3 "$HERE/summarize.py" "$OUT/ssh.json" "$SESSIONS" | tee "$OUT/ssh.md"
