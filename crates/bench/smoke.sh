#!/usr/bin/env bash
# Smoke test of lapor-bench, for CI: builds lapor and lapor-bench, starts a
# throw-away server (temporary data directory, demo accounts, a free
# loopback port), runs a 3-second low-rate open-loop run and short scenario
# runs (with and without think time), and fails unless every run finished
# with zero errors and wrote its JSON summary. About 15 s after the build.
#
#   bash crates/bench/smoke.sh              # debug build (what CI has built anyway)
#   SMOKE_PROFILE=release bash crates/bench/smoke.sh
set -euo pipefail

cd "$(dirname "$0")/../.."
profile="${SMOKE_PROFILE:-debug}"
if [ "$profile" = release ]; then
    cargo build --release -p lapor -p lapor-bench
else
    cargo build -p lapor -p lapor-bench
fi
target_dir="$(cargo metadata --format-version 1 --no-deps | sed -n 's/.*"target_directory":"\([^"]*\)".*/\1/p')"
bin="${target_dir:-target}/$profile"

tmp="$(mktemp -d)"
server_pid=""
cleanup() {
    if [ -n "$server_pid" ] && kill -0 "$server_pid" 2>/dev/null; then
        kill "$server_pid" 2>/dev/null || true
        wait "$server_pid" 2>/dev/null || true
    fi
    rm -rf "$tmp"
}
trap cleanup EXIT

"$bin/lapor" serve --demo --data-dir "$tmp/data" --listen 127.0.0.1:0 >"$tmp/server.log" 2>&1 &
server_pid=$!

# The server logs the address it bound (the only 127.0.0.1:PORT in its log).
addr=""
for _ in $(seq 1 120); do
    addr="$(grep -o '127\.0\.0\.1:[1-9][0-9]*' "$tmp/server.log" | head -n1)" || true
    [ -n "$addr" ] && break
    if ! kill -0 "$server_pid" 2>/dev/null; then
        echo "smoke: the server exited:" >&2
        cat "$tmp/server.log" >&2
        exit 1
    fi
    sleep 0.5
done
if [ -z "$addr" ]; then
    echo "smoke: the server did not start listening in 60 s:" >&2
    cat "$tmp/server.log" >&2
    exit 1
fi
base="http://$addr"
echo "smoke: server at $base"

check_json() {
    local f="$1"
    if [ ! -s "$f" ]; then
        echo "smoke: no JSON summary at $f" >&2
        exit 1
    fi
    # top-level fields of the pretty-printed summary (two-space indent)
    grep -q '^  "errors": 0,$' "$f" || { echo "smoke: $f reports errors" >&2; exit 1; }
    grep -Eq '^  "requests": [1-9][0-9]*,$' "$f" || { echo "smoke: $f reports no requests" >&2; exit 1; }
}

"$bin/lapor-bench" --base "$base" --max-errors 0 --json "$tmp/rate.json" \
    rate --rate 50 --duration 3s
check_json "$tmp/rate.json"

"$bin/lapor-bench" --base "$base" --max-errors 0 --json "$tmp/scenario.json" \
    scenario --vus 5 --ramp-up 1s --duration 4s --think-min 100ms --think-max 300ms
check_json "$tmp/scenario.json"

"$bin/lapor-bench" --base "$base" --max-errors 0 --json "$tmp/no-think.json" \
    scenario --vus 5 --ramp-up 0s --duration 2s --no-think
check_json "$tmp/no-think.json"

echo "smoke: lapor-bench OK (rate, scenario, no-think: zero errors, JSON summaries written)"
