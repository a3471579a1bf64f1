#!/usr/bin/env bash
# Instructions per request of one bench_server mode, under valgrind's
# callgrind: steadier than wall time on a shared machine, and it says where
# the instructions go. User space only (the kernel's share is not counted).
#
#   bench/callgrind.sh guarded        # or: plain, floor
#   BENCH_REVOCATIONS=100000 bench/callgrind.sh guarded   # with that many revoked sessions held
#   callgrind_annotate --inclusive=yes target/callgrind/guarded.out | less   (or $CARGO_TARGET_DIR/callgrind)
#
# The server runs under callgrind (about 50 times slower), signed in as in
# bench/load.sh; after a 3 s warm-up the counters are zeroed, wrk drives it
# for DURATION s (default 10) with 8 connections, and the counters are dumped
# to $CARGO_TARGET_DIR/callgrind/<mode>.out (target/ without it). Settings: DURATION, PORT (default 18083),
# BIN (default $CARGO_TARGET_DIR or target/, then release/examples/bench_server;
# build it first).
set -euo pipefail
cd "$(dirname "$0")/.."

MODE=${1:?usage: bench/callgrind.sh plain|guarded|floor}
DURATION=${DURATION:-10}
PORT=${PORT:-18083}
# Where cargo builds: CARGO_TARGET_DIR when set, as cargo itself does.
TARGET_DIR=${CARGO_TARGET_DIR:-target}
BIN=${BIN:-$TARGET_DIR/release/examples/bench_server}
OUT=$TARGET_DIR/callgrind
for tool in valgrind callgrind_control callgrind_annotate wrk curl; do
  command -v "$tool" >/dev/null || { echo "missing tool: $tool" >&2; exit 2; }
done
mkdir -p "$OUT"
rm -f "$OUT/$MODE".out*

export ROCKET_SECRET_KEY='QczOp0aNEx/JjAZQKD9KsbHsSPSU8s77I/nno+4YyR0=' # a test value
export ROCKET_ADDRESS=127.0.0.1 ROCKET_LOG_LEVEL=off ROCKET_WORKERS=1 ROCKET_PORT=$PORT

TMP=$(mktemp -d)
valgrind --tool=callgrind --callgrind-out-file="$OUT/$MODE.raw" "$BIN" "$MODE" >"$TMP/server.log" 2>&1 &
PID=$!
cleanup() {
  kill "$PID" 2>/dev/null || true
  wait "$PID" 2>/dev/null || true
  rm -rf "$TMP" "$OUT/$MODE.raw" # what ran after the dump
}
trap cleanup EXIT
trap 'exit 130' INT TERM

for _ in $(seq 150); do
  curl -s -o /dev/null --max-time 1 "http://127.0.0.1:$PORT/" && break
  kill -0 "$PID" 2>/dev/null || { cat "$TMP/server.log" >&2; exit 1; }
  sleep 0.2
done
curl -s -o /dev/null -c "$TMP/jar" -X POST "http://127.0.0.1:$PORT/login"
COOKIE=$(awk -F'\t' 'NF >= 7 && ($1 !~ /^#/ || $1 ~ /^#HttpOnly_/) { printf "%s%s=%s", sep, $6, $7; sep = "; " }' "$TMP/jar")
sleep 1.1 # so that, as in the load benchmark, every guarded response re-issues the stamp

wrk -t1 -c8 -d3s -H "Cookie: $COOKIE" "http://127.0.0.1:$PORT/hello" >/dev/null
callgrind_control -z "$PID" >/dev/null 2>&1
out=$(wrk -t1 -c8 "-d${DURATION}s" -H "Cookie: $COOKIE" "http://127.0.0.1:$PORT/hello")
callgrind_control -d "$PID" >/dev/null 2>&1
sleep 1
mv "$OUT/$MODE.raw.1" "$OUT/$MODE.out"
requests=$(awk '/ requests in / { print $1 }' <<<"$out")
total=$(callgrind_annotate "$OUT/$MODE.out" 2>/dev/null | awk '/PROGRAM TOTALS/ { gsub(",", "", $1); print $1 }')
echo "$MODE: $requests requests, $((total / requests)) instructions per request (user space) -> $OUT/$MODE.out"
