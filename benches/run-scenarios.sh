#!/usr/bin/env bash
# Runs every chat-load scenario against chatcore (memory store and SQLite store) and the
# baseline-server in one go, the server pinned to CPU 0 and the load generator to CPU 1, and
# prints a table with chatcore ÷ baseline ratios. Raw results (one JSON object per run) go to
# $OUT (default /var/tmp/chat-load-results.jsonl).
#
#   benches/run-scenarios.sh                  # every scenario, 10 s each
#   DURATION=5 benches/run-scenarios.sh fanout latency
#   SERVERS="chatcore-sqlite baseline" benches/run-scenarios.sh fanout
#   BUILD=0 BIN=/dir/with/chat-load CHAT_SERVER=/older/chat-server benches/run-scenarios.sh storm
#   PERF_STAT=1 SERVERS="chatcore-sqlite baseline" benches/run-scenarios.sh small
#   ROUNDS=3 DURATION=4 SERVERS="chatcore-sqlite baseline" benches/run-scenarios.sh small fanout
#   POSTGRES_URL=postgres://postgres@127.0.0.1/test SERVERS=chatcore-postgres benches/run-scenarios.sh storm
#   SERVERS="chatcore-sqlite chatcore-tcp baseline" benches/run-scenarios.sh small fanout
#
# chatcore-tcp is chatcore-sqlite with the load on chat-server's TCP transport (--tcp-listen)
# instead of its WebSocket listener; the publishers' chatcore clients connect over tcp:// too.
#
# chatcore-postgres keeps each run's tables in a schema of its own (dropped afterwards when
# `psql` is at hand). PostgreSQL itself is not pinned: it works on any core, the load
# generator's included, so compare chatcore-postgres with itself (before/after), not with
# the pinned servers.
#
# ROUNDS=N runs every scenario N times, each round every server in turn, and adds a table of
# the median over the rounds of each round's chatcore ÷ baseline ratio: on a noisy machine a
# ratio taken from runs a few seconds apart moves much less than either run's figures.
#
# PERF_STAT=1 also counts, with `perf stat -p` on the server for the whole run, its CPU time,
# context switches and socket/file write system calls, and prints them per delivery: CPU time
# per delivery moves much less with the machine's load than deliveries/s do.
#
# Scenarios (each would have caught one problem of issue #16):
#   fanout     1 room × 1,000, ack-paced with 4 sends in flight
#   small      1 room × 10, ack-paced, 4 in flight (per-message cost; frames held for a timer)
#   small100   the same in a room of 100
#   rooms      1,000 rooms × 10 at 10,000 deliveries/s
#   rooms2     the same with 2 publishers per room at 0.5 msg/s each (rooms-changes' shape,
#              plain messages only: its like-for-like base)
#   rooms-changes  rooms2 where 10 % of the events are edits/reactions and every connection
#              sends a `read` each second (issue #13; chatcore only, the baseline is skipped)
#   rooms-edits, rooms-reads  rooms-changes with only its changes, or only its reads (which
#              of the two costs what; not in the default set)
#   acks       100 rooms × 10, 2 msg/s per room: send → ack latency at an ordinary rate
#   idle       19,000 joined idle connections (memory per connection)
#   storm      5,000 connections joining one room (time to fill it; presence cost)
#   latency    1 room × 1,000 at 10 msg/s; latency20 the same at 20 msg/s
#   fanout-wN  fanout with N sends in flight instead of 4 (not in the default set)
# Needs `ulimit -n` ≥ 20000 (idle opens 19,000).
set -euo pipefail

cd "$(dirname "$0")/.."
export CARGO_TARGET_DIR="${CARGO_TARGET_DIR:-/var/tmp/chatcore-target}"
BIN="${BIN:-$CARGO_TARGET_DIR/release}"
CHAT_SERVER="${CHAT_SERVER:-$BIN/chat-server}"
DURATION="${DURATION:-10}"
OUT="${OUT:-/var/tmp/chat-load-results.jsonl}"
SERVERS="${SERVERS:-chatcore-memory chatcore-sqlite baseline}"
SCENARIOS=("$@")
[ ${#SCENARIOS[@]} -eq 0 ] && SCENARIOS=(fanout small small100 rooms acks idle storm latency latency20)
ROUNDS="${ROUNDS:-1}"
SERVER_CPU="${SERVER_CPU:-0}"
LOAD_CPU="${LOAD_CPU:-1}"

if [ "${BUILD:-1}" = 1 ]; then
    cargo build --release -p chatcore-benches --bin chat-load --bin baseline-server
    cargo build --release -p chatcore-examples --bin chat-server --features postgres
fi

WORK="$(mktemp -d /var/tmp/chat-load.XXXXXX)"
SERVER_PID=""
SCHEMA=""
cleanup() {
    if [ -n "$SERVER_PID" ]; then kill "$SERVER_PID" 2>/dev/null || true; fi
    rm -rf "$WORK"
}
trap cleanup EXIT
: >"$OUT"
rm -f "$OUT".perf.*

free_port() {
    python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])'
}

# The baseline has no per-user, per-IP or per-room limits, so chat-server runs without its
# own (like with like); an older chat-server without these flags runs as it is.
NO_LIMITS=()
if "$CHAT_SERVER" --help 2>/dev/null | grep -q -- --user-message-rate; then
    NO_LIMITS=(--user-message-rate off --ip-message-rate off --user-join-rate off
        --ip-join-rate off --room-join-rate off --max-connections-per-ip off)
fi

start_server() { # $1 = server kind, $2 = port
    case "$1" in
    chatcore-memory | chatcore-sqlite | chatcore-postgres | chatcore-tcp)
        local store="memory://"
        local tcp=()
        case "$1" in chatcore-sqlite | chatcore-tcp) store="sqlite://$WORK/chat-$2.db" ;; esac
        [ "$1" = chatcore-tcp ] && tcp=(--tcp-listen "127.0.0.1:$TCP_PORT")
        if [ "$1" = chatcore-postgres ]; then
            [ -n "${POSTGRES_URL:-}" ] || {
                echo "chatcore-postgres needs POSTGRES_URL=postgres://USER@HOST/DB" >&2
                return 1
            }
            SCHEMA="bench_$$_$2"
            store="$POSTGRES_URL?schema=$SCHEMA"
        fi
        taskset -c "$SERVER_CPU" "$CHAT_SERVER" --listen "127.0.0.1:$2" --store "$store" \
            --max-connections 20000 --frames-per-second 100000 --log warn "${NO_LIMITS[@]}" "${tcp[@]}" \
            >"$WORK/server-$2.log" 2>&1 &
        ;;
    baseline)
        taskset -c "$SERVER_CPU" "$BIN/baseline-server" --listen "127.0.0.1:$2" \
            >"$WORK/server-$2.log" 2>&1 &
        ;;
    esac
    SERVER_PID=$!
    local ready="$2"
    [ "$1" = chatcore-tcp ] && ready="$TCP_PORT"
    for _ in $(seq 100); do
        if (exec 3<>"/dev/tcp/127.0.0.1/$ready") 2>/dev/null; then
            # The probe holds one of chatcore's 64 handshake slots per IP until the server
            # reads its end; chat-load opens 64 handshakes at once, so give it that moment
            # (else, now and then, one storm connection is refused as the 65th).
            sleep 0.3
            return 0
        fi
        sleep 0.1
    done
    echo "server $1 did not start:" >&2
    cat "$WORK/server-$2.log" >&2
    return 1
}

stop_server() {
    kill "$SERVER_PID" 2>/dev/null || true
    wait "$SERVER_PID" 2>/dev/null || true
    SERVER_PID=""
    if [ -n "${SCHEMA:-}" ] && command -v psql >/dev/null; then
        psql -q "$POSTGRES_URL" -c "DROP SCHEMA $SCHEMA CASCADE" >/dev/null 2>&1 || true
    fi
    SCHEMA=""
}

# idle's 19,000 clients connect from four loopback addresses: from one, past ~14,000 the
# kernel's search for a free ephemeral port, not the server, sets the pace of the ramp. An
# older chat-load (one --bind address) connects from one.
IDLE_BIND=()
if "$BIN/chat-load" --help 2>/dev/null | grep -q "addresses for the connections, comma separated"; then
    IDLE_BIND=(--bind 127.0.0.1,127.0.0.2,127.0.0.3,127.0.0.4)
fi

for scenario in "${SCENARIOS[@]}"; do
    args=(--scenario "$scenario")
    case "$scenario" in
    idle) args=(--scenario idle "${IDLE_BIND[@]}") ;;
    latency20) args=(--scenario latency --rate 20) ;;
    small100) args=(--scenario small --connections 100) ;;
    fanout-w*) args=(--scenario fanout --window "${scenario#fanout-w}") ;;
    rooms2) args=(--scenario rooms --publishers 2000 --rate 0.5) ;;
    rooms-edits) args=(--scenario rooms-changes --read-every 0) ;;
    rooms-reads) args=(--scenario rooms-changes --changes 0) ;;
    esac
    for round in $(seq "$ROUNDS"); do
        for server in $SERVERS; do
            # Edits, reactions and reads are chatcore commands: the baseline has none.
            case "$scenario" in rooms-changes | rooms-edits | rooms-reads)
                [ "$server" = baseline ] && continue ;;
            esac
            label="$scenario/$server"
            [ "$ROUNDS" -gt 1 ] && label="$label@$round"
            target=chatcore
            [ "$server" = baseline ] && target=baseline
            port="$(free_port)"
            TCP_PORT="$(free_port)"
            start_server "$server" "$port"
            # chatcore-tcp: the load connects to the TCP transport's port.
            transport=(--server "127.0.0.1:$port")
            [ "$server" = chatcore-tcp ] && transport=(--transport tcp --server "127.0.0.1:$TCP_PORT")
            echo "== $label (load average $(cut -d' ' -f1-3 /proc/loadavg))" >&2
            PERF_PID=""
            if [ "${PERF_STAT:-0}" = 1 ]; then
                perf stat -x, -o "$OUT.perf.${label//\//.}" -p "$SERVER_PID" -e task-clock,context-switches,syscalls:sys_enter_sendto,syscalls:sys_enter_write 2>/dev/null &
                PERF_PID=$!
            fi
            if ! taskset -c "$LOAD_CPU" "$BIN/chat-load" "${args[@]}" --target "$target" \
                "${transport[@]}" \
                --server-pid "$SERVER_PID" --duration "$DURATION" --json \
                --label "$label" >>"$OUT"; then
                echo "chat-load failed for $label" >&2
            fi
            if [ -n "$PERF_PID" ]; then
                kill -INT "$PERF_PID" 2>/dev/null || true
                wait "$PERF_PID" 2>/dev/null || true
            fi
            stop_server
            sleep 1
        done
    done
done

python3 - "$OUT" <<'EOF'
import json, os, sys
runs = [json.loads(l) for l in open(sys.argv[1]) if l.strip()]
by = {r["label"]: r for r in runs}
def us(v): return f"{v/1000:.2f} ms" if v >= 1000 else f"{v} µs"
hdr = f"{'scenario/server':<28}{'conn':>7}{'ramp s':>7}{'conn/s':>8}{'deliv/s':>10}{'acks/s':>8}{'p50':>10}{'p99':>10}{'p99.9':>10}{'max':>10}{'ack p99':>10}{'err':>5}{'disc':>5}{'srv CPU%':>9}{'µs/deliv':>9}{'KiB/conn':>9}{'load CPU%':>10}  loadavg"
print(hdr)
for r in runs:
    s = r.get("server") or {}
    l = r["latency_us"]
    per = s.get("cpu_us_per_delivery")
    print(f"{r['label']:<28}{r['connected']:>7}{r['ramp_s']:>7.2f}{r['connect_rate']:>8.0f}{r['deliveries_per_s']:>10.0f}{r['acks_per_s']:>8.0f}"
          f"{us(l['p50']):>10}{us(l['p99']):>10}{us(l['p999']):>10}{us(l['max']):>10}{us(r['ack_latency_us']['p99']):>10}{r['errors']:>5}{r['disconnects']:>5}"
          f"{s.get('cpu_pct',0):>9.0f}{(per if per is not None else float('nan')):>9.2f}{s.get('rss_per_connection_kib',0):>9.2f}{r['load_cpu_pct']:>10.0f}  {r['loadavg_start']}")
def perf_file(r): return sys.argv[1] + ".perf." + r["label"].replace("/", ".")
if any(os.path.exists(perf_file(r)) for r in runs):
    print()
    print("perf stat on the server, whole run, per delivery (PERF_STAT=1)")
    print(f"{'scenario/server':<28}{'CPU µs':>9}{'ctx sw':>9}{'sendto':>9}{'write':>9}")
    for r in runs:
        f = perf_file(r)
        if not os.path.exists(f) or not r["deliveries_total"]:
            continue
        v = {}
        for line in open(f):
            parts = line.strip().split(",")
            if len(parts) > 2 and parts[0].replace(".", "", 1).isdigit():
                v[parts[2]] = float(parts[0])
        n = r["deliveries_total"]
        print(f"{r['label']:<28}{v.get('task-clock', 0) * 1000 / n:>9.2f}{v.get('context-switches', 0) / n:>9.3f}"
              f"{v.get('syscalls:sys_enter_sendto', 0) / n:>9.3f}{v.get('syscalls:sys_enter_write', 0) / n:>9.3f}")
print()
print("ratios chatcore ÷ baseline (same scenario, same run)")
print(f"{'scenario/store':<28}{'deliv/s':>9}{'p50':>8}{'p99':>8}{'µs/deliv':>9}{'KiB/conn':>9}{'conn/s':>8}")
def ratio(a, b): return a / b if b else float('nan')
def ratios(r, b):
    s, bs = r.get("server") or {}, b.get("server") or {}
    return [ratio(r['deliveries_per_s'], b['deliveries_per_s']),
            ratio(r['latency_us']['p50'], b['latency_us']['p50']), ratio(r['latency_us']['p99'], b['latency_us']['p99']),
            ratio(s.get('cpu_us_per_delivery') or 0, bs.get('cpu_us_per_delivery') or 0),
            ratio(s.get('rss_per_connection_kib', 0), bs.get('rss_per_connection_kib', 0)), ratio(r['connect_rate'], b['connect_rate'])]
def row(label, v):
    print(f"{label:<28}{v[0]:>9.2f}{v[1]:>8.2f}{v[2]:>8.2f}{v[3]:>9.2f}{v[4]:>9.2f}{v[5]:>8.2f}")
rounds = {}
for r in runs:
    label, _, rnd = r["label"].partition("@")
    scen, srv = label.split("/", 1)
    b = by.get(f"{scen}/baseline" + (f"@{rnd}" if rnd else ""))
    if srv == "baseline" or not b: continue
    v = ratios(r, b)
    row(r["label"], v)
    rounds.setdefault(label, []).append(v)
if any(len(v) > 1 for v in rounds.values()):
    print()
    print("median over the rounds of each round's ratio (ROUNDS)")
    print(f"{'scenario/store':<28}{'deliv/s':>9}{'p50':>8}{'p99':>8}{'µs/deliv':>9}{'KiB/conn':>9}{'conn/s':>8}")
    def median(xs):
        xs = sorted(x for x in xs if x == x)
        if not xs: return float('nan')
        m = len(xs) // 2
        return xs[m] if len(xs) % 2 else (xs[m - 1] + xs[m]) / 2
    for label, vs in rounds.items():
        row(f"{label} ×{len(vs)}", [median([v[i] for v in vs]) for i in range(6)])
EOF
