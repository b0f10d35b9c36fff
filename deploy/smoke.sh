#!/usr/bin/env bash
# Smoke test of the whole cluster behind nginx, for CI: starts it with
# deploy/cluster.sh (3 command + 3 query instances, operations, workflow,
# projector, relay, nginx) with a unique database prefix, Redis key prefix and
# run directory and unusual free ports for nginx, then checks that
#   - GET /health through seed 2's read port is answered by at least 2
#     distinct query instances,
#   - POST /reports through seed 2's write port is answered (201) by at least
#     2 distinct command instances (the "instance" field),
#   - a report created through the write port (8080's stand-in) shows up in
#     the citizen's /reports/me and in officer1's inbox through seed 1's
#     second port (8081's stand-in),
#   - `lapor check-sync` reaches IN SYNC,
# and purges everything (processes, databases, Redis keys, run directory) on
# exit, also on failure. Uses target/release/lapor, building it if missing.
#
# Settings (environment): PG_ADMIN_URL (or LAPOR_TEST_DATABASE_URL, default
# postgres://postgres@127.0.0.1:5432/postgres), REDIS_URL (or
# LAPOR_TEST_REDIS_URL, default redis://127.0.0.1:6379), LAPOR_BIN.
# deploy/cluster.sh puts the instances themselves on fixed ports
# (9101-9103 command, 9201-9203 query, 9301 operations, 9401 workflow): they
# must be free.
set -euo pipefail

here=$(cd "$(dirname "$0")" && pwd)
root=$(cd "$here/.." && pwd)
cd "$root"

export PG_ADMIN_URL=${PG_ADMIN_URL:-${LAPOR_TEST_DATABASE_URL:-postgres://postgres@127.0.0.1:5432/postgres}}
export REDIS_URL=${REDIS_URL:-${LAPOR_TEST_REDIS_URL:-redis://127.0.0.1:6379}}

log() { printf '[smoke] %s\n' "$*" >&2; }
fail() { log "FAILED: $*"; exit 1; }

# ------------------------------------------------------------------ binary
if [ -z "${LAPOR_BIN:-}" ]; then
    target_dir=$(cargo metadata --format-version 1 --no-deps 2>/dev/null \
        | sed -n 's/.*"target_directory":"\([^"]*\)".*/\1/p')
    LAPOR_BIN="${target_dir:-$root/target}/release/lapor"
fi
if [ ! -x "$LAPOR_BIN" ]; then
    log "no release binary at $LAPOR_BIN: building it"
    cargo build --release -p lapor
fi
export LAPOR_BIN

# ------------------------------------------------------------------ ports
in_use() { # port -> 0 when something listens on 127.0.0.1:port
    (exec 3<>"/dev/tcp/127.0.0.1/$1") 2>/dev/null
}
for p in 9101 9102 9103 9201 9202 9203 9301 9401; do
    in_use "$p" && fail "port $p (a cluster.sh instance port) is in use; stop whatever listens there"
done
# Below the kernel's ephemeral range: a port from inside it can be taken by
# any outgoing connection (the instances' own PostgreSQL and Redis
# connections) between this check and nginx's bind, which once failed CI.
ephemeral_low=$(awk '{print $1}' /proc/sys/net/ipv4/ip_local_port_range 2>/dev/null || echo 32768)
[ "$ephemeral_low" -gt 21000 ] || ephemeral_low=32768
pick_ports() { # count -> free ports from an unusual range
    local n=$1 out=() p
    while [ "${#out[@]}" -lt "$n" ]; do
        p=$((20000 + RANDOM % (ephemeral_low - 20000)))
        case " ${out[*]} " in *" $p "*) continue ;; esac
        in_use "$p" || out+=("$p")
    done
    echo "${out[*]}"
}
read -r P8080 P8081 P8082 P8090 <<<"$(pick_ports 4)"
export PORTS="$P8080 $P8081 $P8082 $P8090"
WRITE="http://127.0.0.1:$P8080"   # seed 2's write port, seed 1's report service
SEED1B="http://127.0.0.1:$P8081"  # seed 1's second port
READ="http://127.0.0.1:$P8090"    # seed 2's read port

# ------------------------------------------------------------------ cluster
tmp=$(mktemp -d)
export RUN_DIR="$tmp/cluster"
export DB_PREFIX="lapor_smoke_$$_$RANDOM"
export BUS_PREFIX="$DB_PREFIX"
cleanup() {
    local rc=$?
    if [ "$rc" -ne 0 ] && [ -d "$RUN_DIR" ]; then
        for f in "$RUN_DIR"/*.log; do
            [ -e "$f" ] || continue
            log "---- tail of $(basename "$f")"
            tail -n 5 "$f" >&2 || true
        done
    fi
    "$here/cluster.sh" purge >/dev/null 2>&1 || log "purge failed (RUN_DIR=$RUN_DIR, DB_PREFIX=$DB_PREFIX)"
    rm -rf "$tmp"
    exit "$rc"
}
trap cleanup EXIT
trap 'exit 130' INT TERM

log "starting the cluster: nginx on $PORTS, databases ${DB_PREFIX}_*, run dir $RUN_DIR"
started=$(date +%s)
"$here/cluster.sh" start

# ------------------------------------------------------------------ helpers
json_field() { # name -> first "name":"value" of stdin
    sed -n "s/.*\"$1\":\"\([^\"]*\)\".*/\1/p" | head -n1
}
login() { # base user -> token
    curl -fsS "$1/auth/login" -H 'content-type: application/json' \
        -d "{\"username\":\"$2\",\"password\":\"password\"}" | json_field token
}
create() { # base token content -> response body (fails unless 201)
    local body code
    body=$(curl -sS -w '\n%{http_code}' "$1/reports" -H "authorization: Bearer $2" \
        -H 'content-type: application/json' \
        -d "{\"content\":\"$3\",\"visibility\":\"PUBLIC\",\"category\":\"infrastruktur\"}")
    code=${body##*$'\n'}
    [ "$code" = 201 ] || fail "POST /reports answered $code: ${body%$'\n'*}"
    echo "${body%$'\n'*}"
}

# ------------------------------------------------------------------ checks
# 1. Several query instances answer through the read port.
queries=$(for _ in $(seq 1 30); do curl -fsS "$READ/health" | json_field instance; echo; done | sed '/^$/d' | sort -u)
nq=$(echo "$queries" | sed '/^$/d' | wc -l)
[ "$nq" -ge 2 ] || fail "GET /health through :$P8090 was answered by $nq instance(s): $queries"
log "GET /health through :$P8090 answered by $nq instances: $(echo $queries)"

# 2. Several command instances answer creates through the write port.
CIT=$(login "$WRITE" citizen1)
OFF=$(login "$WRITE" officer1)
[ -n "$CIT" ] && [ -n "$OFF" ] || fail "login through :$P8080"
ids=()
commands=""
for i in $(seq 1 12); do
    res=$(create "$WRITE" "$CIT" "Smoke report $i through nginx")
    ids+=("$(echo "$res" | json_field report_id)")
    commands+="$(echo "$res" | json_field instance)"$'\n'
done
commands=$(echo "$commands" | sed '/^$/d' | sort -u)
nc=$(echo "$commands" | wc -l)
[ "$nc" -ge 2 ] || fail "POST /reports through :$P8080 was answered by $nc instance(s): $commands"
log "POST /reports through :$P8080 answered (201) by $nc instances: $(echo $commands)"

# 3. The last report reaches the citizen's list and the officer's inbox
#    through the other seed-1 port.
id=${ids[-1]}
for what in "/reports/me:$CIT" "/cases/inbox:$OFF"; do
    path=${what%%:*} tok=${what#*:}
    found=""
    for _ in $(seq 1 100); do
        if curl -fsS "$SEED1B$path?limit=100" -H "authorization: Bearer $tok" | grep -q "\"$id\""; then
            found=yes; break
        fi
        sleep 0.2
    done
    [ -n "$found" ] || fail "report $id never appeared in $path through :$P8081"
    log "report $id is in $path through :$P8081"
done

# 4. The web app is served through nginx: the public feed lists the reports
#    and the event stream is not buffered away.
feed=$(curl -fsS "$WRITE/app/feed?sort=new")
echo "$feed" | grep -q "Smoke report 12 through nginx" || fail "GET /app/feed through :$P8080 does not list the reports"
curl -fsS -o /dev/null "$WRITE/static/app.css" || fail "GET /static/app.css through :$P8080"
log "the web app answers through :$P8080 (feed lists the smoke reports)"

# 5. Write side, read databases, consumer groups and outboxes agree.
pg_url() { local base=${PG_ADMIN_URL%%\?*}; echo "${base%/*}/$1"; }
reads="$(pg_url "${DB_PREFIX}_read_primary"),$(pg_url "${DB_PREFIX}_read_replica1"),$(pg_url "${DB_PREFIX}_read_replica2")"
in_sync=""
for _ in $(seq 1 120); do
    if out=$(LAPOR_DATABASE_URL=$(pg_url "${DB_PREFIX}_write") LAPOR_READ_DATABASE_URLS=$reads \
        LAPOR_BUS_URL=$REDIS_URL LAPOR_BUS_PREFIX=$BUS_PREFIX LAPOR_LOG=error \
        "$LAPOR_BIN" check-sync --data-dir "$tmp/check-sync" 2>&1); then
        in_sync=yes; break
    fi
    sleep 0.5
done
[ -n "$in_sync" ] || fail "check-sync never reported IN SYNC:"$'\n'"$out"
echo "$out" | sed 's/^/[smoke]   /' >&2

log "OK in $(($(date +%s) - started)) s: $nq query and $nc command instances answered through nginx, reads through :$P8081, check-sync IN SYNC"
