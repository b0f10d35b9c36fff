#!/usr/bin/env bash
# A whole Lapor cluster on one machine, from Debian's packages:
# PostgreSQL (one write database, three read databases), Redis Streams,
# 3 command + 3 query instances, operations, workflow, projector and relay
# instances, and nginx in front on seed 1's ports (8080, 8081, 8082) and
# seed 2's (8080 write, 8090 read).
#
#   deploy/cluster.sh start     # builds lapor (release) if needed, starts everything
#   deploy/cluster.sh status    # which processes run, what /health answers
#   deploy/cluster.sh stop      # stops everything (keeps the databases)
#   deploy/cluster.sh purge     # stops and drops the databases and Redis keys
#
# Settings (environment): PG_ADMIN_URL (postgres://postgres@127.0.0.1:5432/postgres),
# REDIS_URL (redis://127.0.0.1:6379), RUN_DIR (/tmp/lapor-cluster), PORTS
# ("8080 8081 8082 8090"), DB_PREFIX (lapor_cluster), LAPOR_BIN (target/release/lapor),
# COMMANDS (3), QUERIES (3), NGINX (nginx).
set -euo pipefail

here=$(cd "$(dirname "$0")" && pwd)
root=$(cd "$here/.." && pwd)
PG_ADMIN_URL=${PG_ADMIN_URL:-postgres://postgres@127.0.0.1:5432/postgres}
REDIS_URL=${REDIS_URL:-redis://127.0.0.1:6379}
RUN_DIR=${RUN_DIR:-/tmp/lapor-cluster}
PORTS=${PORTS:-"8080 8081 8082 8090"}
DB_PREFIX=${DB_PREFIX:-lapor_cluster}
LAPOR_BIN=${LAPOR_BIN:-$root/target/release/lapor}
COMMANDS=${COMMANDS:-3}
QUERIES=${QUERIES:-3}
NGINX=${NGINX:-nginx}
BUS_PREFIX=${BUS_PREFIX:-$DB_PREFIX}

pg_url() { # database name -> URL on the same server as PG_ADMIN_URL
    local base=${PG_ADMIN_URL%%\?*}
    echo "${base%/*}/$1"
}
WRITE_URL=$(pg_url "${DB_PREFIX}_write")
READ_URLS=("$(pg_url "${DB_PREFIX}_read_primary")" "$(pg_url "${DB_PREFIX}_read_replica1")" "$(pg_url "${DB_PREFIX}_read_replica2")")

log() { printf '[cluster] %s\n' "$*" >&2; }

create_databases() {
    for db in "${DB_PREFIX}_write" "${DB_PREFIX}_read_primary" "${DB_PREFIX}_read_replica1" "${DB_PREFIX}_read_replica2"; do
        if ! psql "$PG_ADMIN_URL" -Atqc "SELECT 1 FROM pg_database WHERE datname = '$db'" | grep -q 1; then
            psql "$PG_ADMIN_URL" -qc "CREATE DATABASE $db" >/dev/null
            log "created database $db"
        fi
    done
}

# Every instance shares one signing secret (tokens from any instance work
# on every other); it is generated once and kept in RUN_DIR.
jwt_secret() {
    local f="$RUN_DIR/jwt.key"
    if [ ! -s "$f" ]; then
        umask 077
        head -c 64 /dev/urandom | od -An -tx1 | tr -d ' \n' >"$f"
    fi
    cat "$f"
}

start_instance() { # name role port [extra args...]
    local name=$1 role=$2 port=$3
    shift 3
    local listen=()
    [ "$port" != "-" ] && listen=(--listen "127.0.0.1:$port")
    mkdir -p "$RUN_DIR/$name"
    LAPOR_JWT_SECRET=$(jwt_secret) \
    LAPOR_DATABASE_URL=$WRITE_URL \
    LAPOR_BUS_URL=$REDIS_URL \
    LAPOR_BUS_PREFIX=$BUS_PREFIX \
    LAPOR_SKIP_MIGRATIONS=true \
    LAPOR_LOG_FORMAT=json \
    LAPOR_PHOTO_DIR="$RUN_DIR/photos" \
        nohup "$LAPOR_BIN" serve --role "$role" --instance-id "$name" --data-dir "$RUN_DIR/$name" \
        "${listen[@]}" "$@" >"$RUN_DIR/$name.log" 2>&1 &
    echo $! >"$RUN_DIR/$name.pid"
}

# Rotates the read databases so each query instance prefers another one
# (and fails over to the rest).
read_urls_from() { # index
    local i=$1 n=${#READ_URLS[@]} out=()
    for k in $(seq 0 $((n - 1))); do out+=("${READ_URLS[$(((i + k) % n))]}"); done
    (IFS=,; echo "${out[*]}")
}

all_reads() { (IFS=,; echo "${READ_URLS[*]}"); }

wait_http() { # url
    for _ in $(seq 1 200); do
        curl -fsS -o /dev/null "$1" 2>/dev/null && return 0
        sleep 0.1
    done
    log "no answer from $1"; return 1
}

write_nginx_conf() {
    local servers_for # role base count
    servers_for() {
        local base=$1 count=$2 out=""
        for i in $(seq 1 "$count"); do out+="server 127.0.0.1:$((base + i - 1)) max_fails=2 fail_timeout=5s; "; done
        echo "$out"
    }
    local listen=""
    for p in $PORTS; do listen+="listen 127.0.0.1:$p reuseport; "; done
    mkdir -p "$RUN_DIR/nginx"
    sed -e "s#@RUN@#$RUN_DIR/nginx#g" \
        -e "s#@COMMAND_SERVERS@#$(servers_for 9101 "$COMMANDS")#" \
        -e "s#@QUERY_SERVERS@#$(servers_for 9201 "$QUERIES")#" \
        -e "s#@OPERATIONS_SERVERS@#$(servers_for 9301 1)#" \
        -e "s#@WORKFLOW_SERVERS@#$(servers_for 9401 1)#" \
        -e "s#@LISTEN@#$listen#" \
        "$here/nginx.conf.template" >"$RUN_DIR/nginx/nginx.conf"
}

start() {
    command -v psql >/dev/null || { log "psql is missing (apt-get install postgresql-client)"; exit 1; }
    command -v "$NGINX" >/dev/null || [ -x /usr/sbin/nginx ] || { log "nginx is missing (apt-get install nginx)"; exit 1; }
    command -v "$NGINX" >/dev/null || NGINX=/usr/sbin/nginx
    if [ ! -x "$LAPOR_BIN" ]; then
        log "building lapor (release)"
        (cd "$root" && cargo build --release -p lapor)
    fi
    mkdir -p "$RUN_DIR"
    create_databases
    log "migrating"
    LAPOR_DATABASE_URL=$WRITE_URL LAPOR_READ_DATABASE_URLS=$(all_reads) \
        "$LAPOR_BIN" migrate --data-dir "$RUN_DIR/migrate" >/dev/null
    # Demo accounts, created once (by a short-lived process).
    LAPOR_JWT_SECRET=$(jwt_secret) LAPOR_DATABASE_URL=$WRITE_URL LAPOR_BUS_URL=$REDIS_URL LAPOR_BUS_PREFIX=$BUS_PREFIX \
        LAPOR_READ_DATABASE_URLS=$(all_reads) \
        timeout 60 "$LAPOR_BIN" serve --role relay --demo --data-dir "$RUN_DIR/demo" --instance-id demo-setup >"$RUN_DIR/demo.log" 2>&1 &
    local setup=$!
    for i in $(seq 1 "$COMMANDS"); do start_instance "command-$i" command $((9100 + i)) --read-database-urls "$(all_reads)"; done
    for i in $(seq 1 "$QUERIES"); do start_instance "query-$i" query $((9200 + i)) --read-database-urls "$(read_urls_from $((i - 1)))"; done
    start_instance operations-1 operations 9301 --read-database-urls "$(all_reads)"
    start_instance workflow-1 workflow 9401 --read-database-urls "$(all_reads)"
    start_instance projector-1 projector - --read-database-urls "$(all_reads)"
    start_instance relay-1 relay - --read-database-urls "$(all_reads)"
    for port in $(seq 9101 $((9100 + COMMANDS))) $(seq 9201 $((9200 + QUERIES))) 9301 9401; do
        wait_http "http://127.0.0.1:$port/health"
    done
    sleep 1; kill "$setup" 2>/dev/null || true; wait "$setup" 2>/dev/null || true
    write_nginx_conf
    "$NGINX" -c "$RUN_DIR/nginx/nginx.conf" -p "$RUN_DIR/nginx" -g "daemon on;"
    for p in $PORTS; do wait_http "http://127.0.0.1:$p/health"; done
    log "cluster up: nginx on $PORTS; logs and pids in $RUN_DIR"
}

stop() {
    if [ -f "$RUN_DIR/nginx/nginx.pid" ]; then
        "${NGINX}" -c "$RUN_DIR/nginx/nginx.conf" -p "$RUN_DIR/nginx" -s stop 2>/dev/null \
            || /usr/sbin/nginx -c "$RUN_DIR/nginx/nginx.conf" -p "$RUN_DIR/nginx" -s stop 2>/dev/null || true
    fi
    for f in "$RUN_DIR"/*.pid; do
        [ -e "$f" ] || continue
        kill "$(cat "$f")" 2>/dev/null || true
        rm -f "$f"
    done
    sleep 0.5
    log "stopped"
}

purge() {
    stop
    for db in "${DB_PREFIX}_write" "${DB_PREFIX}_read_primary" "${DB_PREFIX}_read_replica1" "${DB_PREFIX}_read_replica2"; do
        psql "$PG_ADMIN_URL" -qc "DROP DATABASE IF EXISTS $db WITH (FORCE)" >/dev/null || true
    done
    if command -v redis-cli >/dev/null; then
        redis-cli -u "$REDIS_URL" --scan --pattern "$BUS_PREFIX:*" | xargs -r redis-cli -u "$REDIS_URL" del >/dev/null
    fi
    rm -rf "$RUN_DIR"
    log "purged"
}

status() {
    for f in "$RUN_DIR"/*.pid; do
        [ -e "$f" ] || continue
        local name; name=$(basename "$f" .pid)
        if kill -0 "$(cat "$f")" 2>/dev/null; then echo "$name running"; else echo "$name DEAD"; fi
    done
    for p in $PORTS; do printf 'port %s: ' "$p"; curl -fsS "http://127.0.0.1:$p/health" || echo "no answer"; echo; done
}

case "${1:-}" in
    start) start ;;
    stop) stop ;;
    purge) purge ;;
    status) status ;;
    *) echo "usage: $0 start|status|stop|purge" >&2; exit 2 ;;
esac
