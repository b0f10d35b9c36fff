#!/usr/bin/env bash
# Checks the OpenAPI document against the running server: the document is a
# valid OpenAPI document (openapi-spec-validator), and a short schemathesis
# run finds no 5xx and no answer that breaks its documented schema.
#
# Uses the debug binary the tests built (LAPOR_BIN to override). The Python
# tools are installed from PyPI into target/openapi-venv, inside the
# repository, with pip's cache off: nothing is cached outside the repo.
set -euo pipefail
cd "$(dirname "$0")/.."

BIN=${LAPOR_BIN:-$PWD/target/debug/lapor}
VENV=$PWD/target/openapi-venv
# A bound on the fuzzing phase, in seconds (the whole check stays under two
# minutes); examples per operation within it.
MAX_TIME=${OPENAPI_CHECK_SECONDS:-60}
MAX_EXAMPLES=${OPENAPI_CHECK_EXAMPLES:-20}

if [ ! -x "$VENV/bin/schemathesis" ] || [ ! -x "$VENV/bin/openapi-spec-validator" ]; then
    echo "== installing openapi-spec-validator and schemathesis (PyPI) into target/openapi-venv"
    python3 -m venv "$VENV"
    PIP_NO_CACHE_DIR=1 PIP_DISABLE_PIP_VERSION_CHECK=1 \
        "$VENV/bin/pip" install -q openapi-spec-validator schemathesis
fi

data=$(mktemp -d)
port=$(python3 -c 'import socket; s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])')
base=http://127.0.0.1:$port
"$BIN" serve --demo --data-dir "$data" --listen "127.0.0.1:$port" >"$data/server.log" 2>&1 &
server=$!
stop() {
    kill "$server" 2>/dev/null || true
    wait "$server" 2>/dev/null || true
    rm -rf "$data"
}
trap stop EXIT

for _ in $(seq 1 100); do
    curl -sf "$base/ready" >/dev/null && break
    sleep 0.1
done
curl -sf "$base/ready" >/dev/null || { cat "$data/server.log"; echo "lapor did not start"; exit 1; }

echo "== openapi-spec-validator $base/openapi.json"
curl -sf "$base/openapi.json" -o "$data/openapi.json"
"$VENV/bin/openapi-spec-validator" "$data/openapi.json"

token=$(curl -sf -X POST "$base/auth/login" -H 'Content-Type: application/json' \
    -d '{"username":"citizen1","password":"password"}' |
    python3 -c 'import json, sys; print(json.load(sys.stdin)["token"])')

echo "== schemathesis (at most ${MAX_TIME}s, ${MAX_EXAMPLES} examples per operation)"
# not_a_server_error: bad input gets a 4xx, never a 5xx.
# response_schema_conformance: every answer matches its documented schema.
# Run from the temporary directory: schemathesis keeps its own cache in the
# working directory.
status=0
(cd "$data" && "$VENV/bin/schemathesis" run "$base/openapi.json" \
    --checks not_a_server_error,response_schema_conformance \
    -H "Authorization: Bearer $token" \
    --max-examples "$MAX_EXAMPLES" --max-time "$MAX_TIME" \
    --phases examples,coverage,fuzzing \
    --generation-database none --seed 12 --no-color \
    --report-dir "$data/report") || status=$?
if [ "$status" -ne 0 ]; then
    echo "== server log (last 50 lines)"
    tail -50 "$data/server.log"
    exit "$status"
fi
echo "== OpenAPI check passed"
