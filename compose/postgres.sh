#!/usr/bin/env bash
# Start or stop a throw-away PostgreSQL server from Debian's packages, for development,
# tests and benchmarks.
#
#   compose/postgres.sh start DIR   initialise DIR/data if needed, start the server on a
#                                   free port of 127.0.0.1 only, create database
#                                   "dialstream", print its URL (also in DIR/url)
#   compose/postgres.sh stop DIR    stop the server started in DIR (by its pid)
#
# Authentication is "trust" for 127.0.0.1 and the unix socket in DIR, nothing else: the
# server never listens beyond loopback. As root, the server runs as the "postgres" user
# (created when missing), because initdb and postgres refuse to run as root.
set -euo pipefail

die() { echo "postgres.sh: $*" >&2; exit 1; }
say() { echo "postgres.sh: $*" >&2; }

usage() { die "usage: $0 start|stop DIR"; }

[[ $# -eq 2 ]] || usage
command=$1
[[ -n $2 ]] || usage

pg_bin() {
    local dir
    dir=$(ls -d /usr/lib/postgresql/*/bin 2>/dev/null | sort -V | tail -n 1 || true)
    if [[ -z $dir || ! -x $dir/initdb || ! -x $dir/pg_ctl || ! -x $dir/postgres ]]; then
        die "PostgreSQL is not installed (no /usr/lib/postgresql/*/bin/initdb); run compose/install-deps.sh or apt-get install postgresql"
    fi
    echo "$dir"
}

# The user that owns the cluster: the caller, or "postgres" when the caller is root.
run_user() {
    if [[ $(id -u) -ne 0 ]]; then
        id -un
        return
    fi
    if ! id postgres >/dev/null 2>&1; then
        say "creating system user postgres"
        useradd --system --user-group --no-create-home --home-dir /nonexistent \
            --shell /usr/sbin/nologin postgres || die "cannot create user postgres"
    fi
    echo postgres
}

as_owner() {
    if [[ $(id -u) -eq 0 ]]; then
        runuser -u "$OWNER" -- "$@"
    else
        "$@"
    fi
}

free_port() {
    python3 - <<'PY'
import socket
with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as s:
    s.bind(("127.0.0.1", 0))
    print(s.getsockname()[1])
PY
}

alive() { [[ -n ${1:-} ]] && kill -0 "$1" 2>/dev/null; }

start() {
    local bin port pid url attempt
    bin=$(pg_bin)
    command -v python3 >/dev/null || die "python3 is needed to pick a free port"
    OWNER=$(run_user)

    mkdir -p "$DIR"
    DIR=$(cd "$DIR" && pwd -P)
    if [[ -f $DIR/postgres.pid ]] && alive "$(cat "$DIR/postgres.pid")" && [[ -f $DIR/url ]]; then
        say "already running in $DIR (pid $(cat "$DIR/postgres.pid"))"
        cat "$DIR/url"
        return
    fi
    rm -f "$DIR/postgres.pid" "$DIR/url"

    if [[ $(id -u) -eq 0 ]]; then
        chown -R "$OWNER:" "$DIR"
        chmod 0700 "$DIR"
        as_owner test -w "$DIR" -a -x "$DIR" \
            || die "$DIR is not reachable by user $OWNER (is a parent directory private?); use a directory under /tmp"
    fi

    if [[ ! -f $DIR/data/PG_VERSION ]]; then
        say "initialising $DIR/data with $bin/initdb"
        as_owner "$bin/initdb" --pgdata="$DIR/data" --username=postgres --encoding=UTF8 \
            --no-locale --auth-local=trust --auth-host=trust >"$DIR/initdb.log" 2>&1 \
            || { cat "$DIR/initdb.log" >&2; die "initdb failed (log: $DIR/initdb.log)"; }
        # Trust on the unix socket in DIR and on 127.0.0.1 only; no IPv6, no other hosts.
        as_owner tee "$DIR/data/pg_hba.conf" >/dev/null <<'HBA'
# TYPE  DATABASE  USER  ADDRESS        METHOD
local   all       all                  trust
host    all       all   127.0.0.1/32   trust
HBA
    fi

    for attempt in 1 2 3 4 5; do
        port=$(free_port)
        if as_owner "$bin/pg_ctl" --pgdata="$DIR/data" --log="$DIR/postgres.log" --wait \
            --timeout=60 \
            -o "-c listen_addresses=127.0.0.1 -c port=$port -c unix_socket_directories='$DIR'" \
            start >&2; then
            break
        fi
        if [[ $attempt -eq 5 ]] || ! grep -q "could not bind\|could not create any TCP/IP sockets" "$DIR/postgres.log"; then
            tail -n 20 "$DIR/postgres.log" >&2 || true
            die "PostgreSQL did not start (log: $DIR/postgres.log)"
        fi
        say "port $port was taken; trying another"
    done

    pid=$(head -n 1 "$DIR/data/postmaster.pid")
    alive "$pid" || die "PostgreSQL exited right after starting (log: $DIR/postgres.log)"
    echo "$pid" >"$DIR/postgres.pid"

    for _ in $(seq 1 120); do
        if "$bin/pg_isready" --quiet --host=127.0.0.1 --port="$port" --username=postgres; then
            break
        fi
        alive "$pid" || die "PostgreSQL died while starting (log: $DIR/postgres.log)"
        sleep 0.5
    done
    "$bin/pg_isready" --quiet --host=127.0.0.1 --port="$port" --username=postgres \
        || die "PostgreSQL on 127.0.0.1:$port does not answer pg_isready after 60 s (log: $DIR/postgres.log)"

    if [[ -z $("$bin/psql" --host=127.0.0.1 --port="$port" --username=postgres --dbname=postgres \
        --no-psqlrc --tuples-only --no-align \
        --command="SELECT 1 FROM pg_database WHERE datname = 'dialstream'") ]]; then
        "$bin/createdb" --host=127.0.0.1 --port="$port" --username=postgres dialstream \
            || die "cannot create database dialstream on 127.0.0.1:$port"
    fi

    url="postgresql://postgres@127.0.0.1:$port/dialstream"
    echo "$url" >"$DIR/url"
    say "running in $DIR (pid $pid, log $DIR/postgres.log)"
    echo "$url"
}

stop() {
    local bin pid
    [[ -d $DIR ]] || die "no such directory: $DIR"
    DIR=$(cd "$DIR" && pwd -P)
    pid=$(cat "$DIR/postgres.pid" 2>/dev/null || true)
    if ! alive "$pid"; then
        say "not running in $DIR"
        rm -f "$DIR/postgres.pid" "$DIR/url"
        return
    fi
    bin=$(pg_bin)
    OWNER=$(stat -c %U "$DIR/data")
    [[ $(id -u) -eq 0 || $OWNER == "$(id -un)" ]] || die "$DIR/data belongs to $OWNER"
    as_owner "$bin/pg_ctl" --pgdata="$DIR/data" --mode=fast --wait --timeout=30 stop >&2 \
        || say "pg_ctl stop failed; killing pid $pid"
    if alive "$pid"; then
        kill -TERM "$pid" 2>/dev/null || true
        for _ in $(seq 1 20); do alive "$pid" || break; sleep 0.25; done
        if alive "$pid"; then kill -KILL "$pid" 2>/dev/null || true; fi
    fi
    alive "$pid" && die "PostgreSQL (pid $pid) is still running"
    rm -f "$DIR/postgres.pid" "$DIR/url"
    say "stopped (pid $pid)"
}

DIR=$2
case $command in
    start) start ;;
    stop) stop ;;
    *) usage ;;
esac
