#!/usr/bin/env bash
# Run a command against a throwaway PostgreSQL cluster.
#
#   scripts/with-postgres.sh CMD [ARG...]
#
# Creates a fresh cluster in a temporary directory, listening only on 127.0.0.1 on a free port,
# with a database `dentops_test` owned by a least-privilege login role (not a superuser, no
# CREATEDB/CREATEROLE), exports
#
#   DENTOPS_TEST_POSTGRES_URL=postgresql+psycopg://USER:PASSWORD@127.0.0.1:PORT/dentops_test
#
# runs CMD, then always stops the server and deletes the directory. The exit status is CMD's.
#
# PostgreSQL server binaries are looked up in $PG_BIN, /usr/lib/postgresql/*/bin (newest first)
# and PATH. If none is found and we run as root, Debian's `postgresql` package is installed
# (without the packaged "main" cluster, which is never used here).
# If DENTOPS_TEST_POSTGRES_URL is already set, CMD is run against that server unchanged.
set -euo pipefail

readonly PROG="with-postgres"
readonly DB_NAME="dentops_test"
readonly APP_ROLE="dentops_app"
readonly ADMIN_ROLE="postgres"
readonly PG_OS_USER="${PG_OS_USER:-postgres}"

log() { printf '%s: %s\n' "$PROG" "$*" >&2; }
die() { log "error: $*"; exit 1; }

if [[ $# -eq 0 ]]; then
    echo "usage: $0 CMD [ARG...]" >&2
    exit 2
fi

if [[ -n "${DENTOPS_TEST_POSTGRES_URL:-}" ]]; then
    log "DENTOPS_TEST_POSTGRES_URL is already set; using that server"
    exec "$@"
fi

is_root() { [[ "$(id -u)" -eq 0 ]]; }

find_pg_bin() {
    local dir
    if [[ -n "${PG_BIN:-}" && -x "${PG_BIN}/initdb" ]]; then
        echo "$PG_BIN"
        return 0
    fi
    # Debian layout: /usr/lib/postgresql/<major>/bin; prefer the newest major version.
    for dir in $(printf '%s\n' /usr/lib/postgresql/*/bin | sort -t/ -k5,5 -rn); do
        if [[ -x "$dir/initdb" && -x "$dir/pg_ctl" ]]; then
            echo "$dir"
            return 0
        fi
    done
    if command -v initdb >/dev/null 2>&1 && command -v pg_ctl >/dev/null 2>&1; then
        dirname "$(command -v initdb)"
        return 0
    fi
    return 1
}

install_postgres_with_apt() {
    log "PostgreSQL server not found; installing Debian's postgresql package"
    export DEBIAN_FRONTEND=noninteractive
    # Stop the package from creating (and starting) its own "main" cluster: we never use it.
    mkdir -p /etc/postgresql-common/createcluster.d
    echo "create_main_cluster = false" \
        >/etc/postgresql-common/createcluster.d/50-dentops-no-main-cluster.conf
    local -a install=(apt-get install -y -q --no-install-recommends postgresql)
    if ! "${install[@]}" >&2; then
        # Package lists are missing or stale on a fresh machine: refresh once and retry.
        apt-get update -q >&2
        "${install[@]}" >&2
    fi
}

PG_BIN_DIR="$(find_pg_bin)" || {
    is_root || die "PostgreSQL server binaries not found (looked in \$PG_BIN, \
/usr/lib/postgresql/*/bin and PATH). Install PostgreSQL, set PG_BIN, or set \
DENTOPS_TEST_POSTGRES_URL to an existing server."
    install_postgres_with_apt
    PG_BIN_DIR="$(find_pg_bin)" || die "PostgreSQL still not found after apt-get install"
}

# PostgreSQL refuses to run as root, so as root the cluster belongs to the postgres OS user.
if is_root; then
    id "$PG_OS_USER" >/dev/null 2>&1 || die "OS user '$PG_OS_USER' does not exist (set PG_OS_USER)"
    as_pg() { runuser -u "$PG_OS_USER" -- "$@"; }
else
    as_pg() { "$@"; }
fi

random_hex() { od -An -N"$1" -tx1 /dev/urandom | tr -d ' \n'; }

free_port() {
    python3 - <<'EOF'
import socket

with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as s:
    s.bind(("127.0.0.1", 0))
    print(s.getsockname()[1])
EOF
}

WORK_DIR="$(mktemp -d "${TMPDIR:-/tmp}/dentops-pg.XXXXXXXX")"
DATA_DIR="$WORK_DIR/data"
SOCKET_DIR="$WORK_DIR" # short path: Unix socket paths are limited to ~100 bytes
LOG_FILE="$DATA_DIR/server.log" # inside the data dir: the postgres user can always write there

# shellcheck disable=SC2329  # invoked by the EXIT trap
cleanup() {
    local status=$?
    trap - EXIT INT TERM HUP
    if [[ -f "$DATA_DIR/postmaster.pid" ]]; then
        if ! as_pg "$PG_BIN_DIR/pg_ctl" -D "$DATA_DIR" -m fast -w -t 30 stop >/dev/null 2>&1; then
            log "pg_ctl stop failed; killing the server"
            kill -9 "$(head -n1 "$DATA_DIR/postmaster.pid")" 2>/dev/null || true
            sleep 0.5
        fi
    fi
    rm -rf "$WORK_DIR"
    exit "$status"
}
trap cleanup EXIT
trap 'exit 130' INT
trap 'exit 143' TERM
trap 'exit 129' HUP

show_log_and_die() {
    [[ -f "$LOG_FILE" ]] && tail -n 30 "$LOG_FILE" >&2
    die "$1"
}

if is_root; then
    chown "$PG_OS_USER" "$WORK_DIR"
    as_pg test -w "$WORK_DIR" -a -x "$WORK_DIR" ||
        die "'$PG_OS_USER' cannot use $WORK_DIR (is ${TMPDIR:-/tmp} searchable by it?)"
fi
chmod 700 "$WORK_DIR"

# Local (socket) connections are trusted: the socket lives in a 0700 directory only the cluster
# owner (and root) can enter. TCP connections need the role's password.
as_pg "$PG_BIN_DIR/initdb" -D "$DATA_DIR" -U "$ADMIN_ROLE" --auth-local=trust \
    --auth-host=scram-sha-256 --encoding=UTF8 --no-locale --no-sync --no-instructions \
    >"$WORK_DIR/initdb.out" 2>&1 || {
    cat "$WORK_DIR/initdb.out" >&2
    die "initdb failed"
}

# Throwaway cluster: durability off for speed.
as_pg tee -a "$DATA_DIR/postgresql.conf" >/dev/null <<EOF

# --- dentops throwaway test cluster ---
listen_addresses = '127.0.0.1'
unix_socket_directories = '$SOCKET_DIR'
fsync = off
synchronous_commit = off
full_page_writes = off
EOF

PORT=""
for attempt in 1 2 3 4 5; do
    candidate="$(free_port)"
    # Another process may grab the port between the probe and the bind: retry with a new one.
    if as_pg "$PG_BIN_DIR/pg_ctl" -D "$DATA_DIR" -l "$LOG_FILE" -w -t 60 \
        -o "-p $candidate" start >/dev/null 2>&1; then
        PORT="$candidate"
        break
    fi
    log "server did not start on port $candidate (attempt $attempt)"
    [[ -f "$DATA_DIR/postmaster.pid" ]] && show_log_and_die "server half-started; giving up"
done
[[ -n "$PORT" ]] || show_log_and_die "could not start PostgreSQL"

APP_PASSWORD="$(random_hex 16)" # hex: safe inside SQL quotes and URLs
SETUP_SQL="CREATE ROLE $APP_ROLE LOGIN PASSWORD '$APP_PASSWORD'
    NOSUPERUSER NOCREATEDB NOCREATEROLE NOREPLICATION NOBYPASSRLS;
CREATE DATABASE $DB_NAME OWNER $APP_ROLE;"
if ! as_pg "$PG_BIN_DIR/psql" -X -q -v ON_ERROR_STOP=1 -h "$SOCKET_DIR" -p "$PORT" \
    -U "$ADMIN_ROLE" -d postgres >/dev/null <<<"$SETUP_SQL"; then
    show_log_and_die "could not create role and database"
fi

export DENTOPS_TEST_POSTGRES_URL="postgresql+psycopg://$APP_ROLE:$APP_PASSWORD@127.0.0.1:$PORT/$DB_NAME"
log "PostgreSQL $("$PG_BIN_DIR/postgres" -V | awk '{print $3}') on 127.0.0.1:$PORT," \
    "database $DB_NAME owned by $APP_ROLE"

set +e
"$@"
status=$?
set -e
exit "$status"
