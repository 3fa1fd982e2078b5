#!/usr/bin/env bash
# Tunnel benchmark, side by side in one run on loopback (Benchmarks/tunnel/README in BENCHMARKS.md):
#   throughput  iperf3 -c for SECONDS: direct, through fwtunnel (TLS off, TLS on), through two chained socat relays
#               (the same two-hop shape as home+work), through `ssh -R` (one OpenSSH connection, the usual tool);
#   short connections per second (connect, one byte there and back, close; THREADS client threads);
#   time to first byte of a server that speaks first: direct and through fwtunnel with the warm pool (alternating,
#   the difference as the median of back-to-back pairs), with TLS on, and without the pool;
#   RSS of fwtunnel-home and of fwtunnel-work (and both) idle and holding 1,000 concurrent connections.
# Prints a Markdown table with ratios and writes it to OUT_DIR/results.md.
#
# usage: Benchmarks/tunnel/run.sh BUILD_DIR [OUT_DIR]     (BUILD_DIR holds release fwtunnel-home/-work; root: runs sshd)
set -euo pipefail

BIN=$(realpath "${1:?usage: run.sh BUILD_DIR [OUT_DIR]}")
OUT=$(realpath -m "${2:-.build/bench-tunnel}")
SECONDS_EACH=${SECONDS_EACH:-5}
THREADS=${THREADS:-8}
HERE=$(dirname "$(realpath "$0")")
PROBE="python3 $HERE/probe.py"

work=$(mktemp -d /tmp/fwtunnel-bench.XXXXXX)
pids=()
cleanup() {
    for pid in "${pids[@]}"; do kill "$pid" 2>/dev/null || true; done
    for pid in "${pids[@]}"; do wait "$pid" 2>/dev/null || true; done
    rm -rf "$work"
}
trap cleanup EXIT
mkdir -p "$OUT" /run/sshd

port() { python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])'; }
wait_port() { for _ in $(seq 200); do if (exec 3<>"/dev/tcp/127.0.0.1/$1") 2>/dev/null; then return 0; fi; sleep 0.05; done; echo "port $1 never opened" >&2; return 1; }
start() { "$@" & pids+=($!); }
rss_kb() { awk '/VmRSS/ {print $2}' "/proc/$1/status"; }
iperf() {
    iperf3 -c 127.0.0.1 -p "$1" -t "$SECONDS_EACH" -J | python3 -c 'import json,sys
r = json.load(sys.stdin)
print(round(r["end"]["sum_received"]["bits_per_second"] / 1e9, 2) if "sum_received" in r.get("end", {}) else "error: " + r.get("error", "?"))'
}

# --- The services: iperf3, an echo server, a banner server.
IPERF=$(port); ECHO=$(port); BANNER=$(port)
start iperf3 -s -B 127.0.0.1 -p "$IPERF" >/dev/null 2>&1
start $PROBE echo-server "$ECHO"
start $PROBE banner-server "$BANNER"
# (iperf3 would take a probe connection for a test and then report itself busy: give it a moment instead.)
sleep 1; wait_port "$ECHO"; wait_port "$BANNER"

# --- fwtunnel: one home with three services per TLS setting; one work each.
head -c 32 /dev/urandom | xxd -p -c 64 > "$work/secret"; chmod 600 "$work/secret"
printf '127.0.0.1\n' > "$work/allow"
openssl req -x509 -newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes -keyout "$work/home.key" -out "$work/home.crt" \
    -days 2 -subj /CN=fwtunnel-bench 2>/dev/null
declare -A HOMEPID WORKPID
tunnel() {  # tunnel NAME TLS(true|false) POOLMIN POOLMAX -> sets ports P_NAME_{iperf,echo,banner}
    local name=$1 tls=$2 min=$3 max=$4 agent; agent=$(port)
    local pi pe pb; pi=$(port); pe=$(port); pb=$(port)
    local hometls='false' worktls='false'
    if [ "$tls" = true ]; then
        hometls="{\"certificate\": \"$work/home.crt\", \"key\": \"$work/home.key\"}"
    fi
    cat > "$work/home-$name.json" <<JSON
{"version": 1, "agentListen": "127.0.0.1:$agent", "tls": $hometls, "secretFile": "$work/secret",
 "allowlistFile": "$work/allow", "statusSocket": "$work/home-$name.sock",
 "limits": {"connectionsPerClient": 5000, "connections": 10000, "clientWait": 10},
 "services": [{"name": "iperf", "listen": "127.0.0.1:$pi"}, {"name": "echo", "listen": "127.0.0.1:$pe"},
              {"name": "banner", "listen": "127.0.0.1:$pb"}]}
JSON
    if [ "$tls" = true ]; then
        worktls="{\"fingerprint\": \"$("$BIN/fwtunnel-home" -c "$work/home-$name.json" --print-fingerprint)\"}"
    fi
    cat > "$work/work-$name.json" <<JSON
{"version": 1, "name": "bench", "home": "127.0.0.1:$agent", "tls": $worktls, "secretFile": "$work/secret",
 "statusSocket": "$work/work-$name.sock", "pool": {"min": $min, "max": $max},
 "services": [{"name": "iperf", "target": "127.0.0.1:$IPERF"}, {"name": "echo", "target": "127.0.0.1:$ECHO"},
              {"name": "banner", "target": "127.0.0.1:$BANNER"}]}
JSON
    start "$BIN/fwtunnel-home" -c "$work/home-$name.json" --log-level warning; HOMEPID[$name]=$!
    wait_port "$agent"
    start "$BIN/fwtunnel-work" -c "$work/work-$name.json" --log-level warning; WORKPID[$name]=$!
    for _ in $(seq 100); do
        if socat -T1 - "UNIX-CONNECT:$work/work-$name.sock" 2>/dev/null | grep -q '"connected":true'; then break; fi
        sleep 0.05
    done
    sleep 0.5
    eval "P_${name}_iperf=$pi P_${name}_echo=$pe P_${name}_banner=$pb"
}
tunnel plain false 8 64
tunnel tls true 8 64
tunnel nopool false 0 0

# --- Two chained socat relays (the same two-hop shape as home+work).
S1=$(port); S2=$(port); S1E=$(port); S2E=$(port)
start socat TCP-LISTEN:"$S2",bind=127.0.0.1,fork,reuseaddr,nodelay TCP:127.0.0.1:"$IPERF",nodelay
start socat TCP-LISTEN:"$S1",bind=127.0.0.1,fork,reuseaddr,nodelay TCP:127.0.0.1:"$S2",nodelay
start socat TCP-LISTEN:"$S2E",bind=127.0.0.1,fork,reuseaddr,nodelay TCP:127.0.0.1:"$ECHO",nodelay
start socat TCP-LISTEN:"$S1E",bind=127.0.0.1,fork,reuseaddr,nodelay TCP:127.0.0.1:"$S2E",nodelay
wait_port "$S1E"; sleep 0.2

# --- ssh -R: a loopback sshd and one OpenSSH client forwarding a remote port to iperf3 and to echo.
SSHD=$(port); RI=$(port); RE=$(port)
ssh-keygen -q -t ed25519 -N '' -f "$work/host" && ssh-keygen -q -t ed25519 -N '' -f "$work/id" && cp "$work/id.pub" "$work/authorized_keys"
cat > "$work/sshd_config" <<CONFIG
Port $SSHD
ListenAddress 127.0.0.1
HostKey $work/host
PidFile $work/sshd.pid
AuthorizedKeysFile $work/authorized_keys
UsePAM no
StrictModes no
PermitRootLogin prohibit-password
PasswordAuthentication no
MaxStartups 100
LogLevel ERROR
SetEnv HOME=$work
CONFIG
start /usr/sbin/sshd -D -e -f "$work/sshd_config"
wait_port "$SSHD"
echo "[127.0.0.1]:$SSHD $(cut -d' ' -f1,2 "$work/host.pub")" > "$work/known_hosts"
start ssh -F /dev/null -N -p "$SSHD" -i "$work/id" -o IdentitiesOnly=yes -o BatchMode=yes -o UserKnownHostsFile="$work/known_hosts" \
    -o ExitOnForwardFailure=yes -R "127.0.0.1:$RI:127.0.0.1:$IPERF" -R "127.0.0.1:$RE:127.0.0.1:$ECHO" root@127.0.0.1
wait_port "$RE"; sleep 0.2

# --- Measure.
home_idle=$(rss_kb "${HOMEPID[plain]}"); work_idle=$(rss_kb "${WORKPID[plain]}")
echo "throughput (iperf3 -t $SECONDS_EACH)..." >&2
g_direct=$(iperf "$IPERF"); g_plain=$(iperf "$P_plain_iperf"); g_tls=$(iperf "$P_tls_iperf")
g_socat=$(iperf "$S1"); g_ssh=$(iperf "$RI")
echo "short connections ($THREADS threads, $SECONDS_EACH s each)..." >&2
c_direct=$($PROBE cps "$ECHO" "$SECONDS_EACH" "$THREADS"); c_plain=$($PROBE cps "$P_plain_echo" "$SECONDS_EACH" "$THREADS")
c_tls=$($PROBE cps "$P_tls_echo" "$SECONDS_EACH" "$THREADS"); c_socat=$($PROBE cps "$S1E" "$SECONDS_EACH" "$THREADS")
c_ssh=$($PROBE cps "$RE" "$SECONDS_EACH" "$THREADS")
echo "time to first byte (300 pairs direct/warm pool, 200 connections each otherwise)..." >&2
# Direct and warm pool alternate (pairs back to back), so the difference is not the machine's load moving.
read -r d50 d90 p50 p90 t_diff <<< "$($PROBE ttfb-vs "$BANNER" "$P_plain_banner" 300)"
t_direct="$d50 $d90"; t_pool="$p50 $p90"
t_nopool=$($PROBE ttfb "$P_nopool_banner" 200); t_tlspool=$($PROBE ttfb "$P_tls_banner" 200)
echo "RSS at 1,000 connections..." >&2
$PROBE hold "$P_plain_echo" 1000 4 > "$work/held" &
holder=$!
for _ in $(seq 200); do [ -s "$work/held" ] && break; sleep 0.05; done
held=$(cat "$work/held")
home_1000=$(rss_kb "${HOMEPID[plain]}"); work_1000=$(rss_kb "${WORKPID[plain]}")
wait "$holder"

ratio() { python3 -c "print(f'{$1/$2:.2f}')"; }
first() { echo "${1%% *}"; }
{
echo "| measure | direct | fwtunnel TLS off | fwtunnel TLS on | 2x socat | ssh -R |"
echo "| --- | ---: | ---: | ---: | ---: | ---: |"
echo "| iperf3 Gbit/s | $g_direct | $g_plain | $g_tls | $g_socat | $g_ssh |"
echo "| short connections/s (errors) | ${c_direct// / (}) | ${c_plain// / (}) | ${c_tls// / (}) | ${c_socat// / (}) | ${c_ssh// / (}) |"
echo
echo "| ratio | value |"
echo "| --- | ---: |"
echo "| TLS off / 2x socat (target >= 3) | $(ratio "$g_plain" "$g_socat") |"
echo "| TLS off / ssh -R (target >= 6) | $(ratio "$g_plain" "$g_ssh") |"
echo "| TLS off / direct (stretch >= 0.5) | $(ratio "$g_plain" "$g_direct") |"
echo "| TLS on / ssh -R (target >= 2) | $(ratio "$g_tls" "$g_ssh") |"
echo "| short connections/s TLS off / 2x socat | $(ratio "$(first "$c_plain")" "$(first "$c_socat")") |"
echo
echo "| time to first byte, µs (median p90) | value |"
echo "| --- | ---: |"
echo "| direct | $t_direct |"
echo "| fwtunnel, warm pool, TLS off | $t_pool |"
echo "| fwtunnel, warm pool, TLS on | $t_tlspool |"
echo "| fwtunnel, no pool (open on demand), TLS off | $t_nopool |"
echo "| warm pool minus direct, median of 300 back-to-back pairs (target <= 300) | $t_diff |"
echo
echo "| RSS, kB (target: under 20 MB idle, under 80 MB at 1,000 connections) | fwtunnel-home | fwtunnel-work | both |"
echo "| --- | ---: | ---: | ---: |"
echo "| idle (8 pooled data connections) | $home_idle | $work_idle | $((home_idle + work_idle)) |"
echo "| holding $held of 1000 echoing connections | $home_1000 | $work_1000 | $((home_1000 + work_1000)) |"
} | tee "$OUT/results.md"
