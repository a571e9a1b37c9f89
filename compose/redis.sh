#!/usr/bin/env bash
# Start or stop a throw-away Redis server from Debian's redis-server package, for
# development, tests and benchmarks (the production suppression index).
#
#   compose/redis.sh start DIR   configure DIR on first start (a free port of 127.0.0.1,
#                                remembered in DIR/port; DIR/redis.conf), start the server,
#                                wait until it answers PING (and has loaded its data), print
#                                its URL redis://127.0.0.1:PORT/0 (also in DIR/url)
#   compose/redis.sh stop DIR    stop the server started in DIR (by its pid, SIGTERM, which
#                                saves DIR/dump.rdb first); its data, port and configuration
#                                stay, so `start DIR` again restarts the same server, with the
#                                same data, on the same address
#
# The server listens on 127.0.0.1 only, in protected mode, without a password and without
# a unix socket. Persistence: no periodic snapshots and no append-only file (nothing is
# written while it runs); one snapshot when it is stopped, loaded on the next start.
# Hashes stay compact listpacks up to 256 fields (Redis's default is 128): the suppression
# index (processors/suppression/redis_index.py) then holds ~50,000,000 entries compactly, ~20,000,000
# with the defaults.
set -euo pipefail

die() { echo "redis.sh: $*" >&2; exit 1; }
say() { echo "redis.sh: $*" >&2; }

usage() { die "usage: $0 start|stop DIR"; }

[[ $# -eq 2 ]] || usage
command=$1
[[ -n $2 ]] || usage

START_TIMEOUT=60  # seconds; loading a large snapshot takes a while
STOP_TIMEOUT=60   # seconds before SIGKILL; saving a large snapshot takes a while

redis_bin() {
    local bin
    bin=$(command -v redis-server || true)
    [[ -n $bin ]] || bin=/usr/bin/redis-server
    [[ -x $bin ]] \
        || die "redis-server is not installed (not on the PATH, no /usr/bin/redis-server); run compose/install-deps.sh or apt-get install redis-server"
    echo "$bin"
}

# The major version of redis-server $1 ("7" for v=7.0.15).
redis_major() {
    "$1" --version | sed -n 's/.* v=\([0-9]*\)\..*/\1/p'
}

free_port() {
    python3 - <<'PY'
import socket
with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as s:
    s.bind(("127.0.0.1", 0))
    print(s.getsockname()[1])
PY
}

# A process that has exited but is not yet reaped (a zombie: our servers are orphans, reaped
# by whatever init there is, which may take a while) counts as gone.
alive() {
    [[ -n ${1:-} ]] && kill -0 "$1" 2>/dev/null || return 1
    [[ $(sed -n 's/.*) \(.\).*/\1/p' "/proc/$1/stat" 2>/dev/null) != Z ]]
}

# Is pid $1 the redis-server of DIR? Redis rewrites its process title to
# "redis-server 127.0.0.1:PORT", so the port identifies it (a pid may have been reused).
ours() {
    alive "${1:-}" || return 1
    [[ -r /proc/$1/cmdline ]] || return 0
    tr '\0' ' ' <"/proc/$1/cmdline" | grep -q "redis-server.*127\.0\.0\.1:$PORT\b"
}

# PING on 127.0.0.1:$1 answers +PONG (not -LOADING while a snapshot is read).
ping() {
    python3 - "$1" <<'PY' 2>/dev/null
import socket, sys
with socket.create_connection(("127.0.0.1", int(sys.argv[1])), timeout=2) as s:
    s.sendall(b"PING\r\n")
    answer = b""
    while not answer.endswith(b"\r\n"):
        chunk = s.recv(64)
        if not chunk:
            break
        answer += chunk
sys.exit(0 if answer == b"+PONG\r\n" else 1)
PY
}

write_config() {
    local major=$1
    {
        echo "# Written by compose/redis.sh; the port is remembered in $DIR/port."
        echo "bind 127.0.0.1"
        echo "protected-mode yes"
        echo "port $PORT"
        echo "daemonize no"
        echo "supervised no"
        echo "loglevel notice"
        echo "logfile \"\""
        echo "dir \"$DIR\""
        echo "dbfilename dump.rdb"
        echo "appendonly no"
        echo "stop-writes-on-bgsave-error no"
        if ((major >= 7)); then
            # No snapshots while running; one when stopped by SIGTERM.
            echo "save \"\""
            echo "shutdown-on-sigterm save"
            echo "hash-max-listpack-entries 256"
            echo "hash-max-listpack-value 64"
        else
            # Redis 6 saves on SIGTERM only when a save point is configured.
            echo "save 3600 1"
            echo "hash-max-ziplist-entries 256"
            echo "hash-max-ziplist-value 64"
        fi
    } >"$DIR/redis.conf"
}

# Start the server in the background (a shell job, so that the caller's pipes are not held).
launch() {
    setsid "$BIN" "$DIR/redis.conf" </dev/null >>"$DIR/redis.log" 2>&1 &
    PID=$!
    echo "$PID" >"$DIR/redis.pid"
}

# Wait until the server started at log offset $1 answers PING.
# Returns 0 when ready, 2 when the port was taken, 3 when it died, 1 when the deadline passed.
await() {
    local offset=$1 deadline=$((SECONDS + START_TIMEOUT))
    while ((SECONDS < deadline)); do
        if ! alive "$PID"; then
            wait "$PID" 2>/dev/null || true
            if tail -c "+$((offset + 1))" "$DIR/redis.log" | grep -q "Address already in use"; then
                return 2
            fi
            return 3
        fi
        ping "$PORT" && return 0
        sleep 0.1
    done
    return 1
}

kill_server() {
    local pid=$1
    kill -TERM "$pid" 2>/dev/null || true
    for _ in $(seq 1 $((STOP_TIMEOUT * 10))); do alive "$pid" || return 0; sleep 0.1; done
    say "pid $pid did not stop within $STOP_TIMEOUT s; killing it (its data since the last start is lost)"
    kill -KILL "$pid" 2>/dev/null || true
    for _ in $(seq 1 50); do alive "$pid" || return 0; sleep 0.1; done
    return 1
}

start() {
    local first offset attempt status url major
    BIN=$(redis_bin)
    command -v python3 >/dev/null || die "python3 is needed to pick a free port and check the server"
    command -v setsid >/dev/null || die "setsid (util-linux) is needed to detach the server"
    major=$(redis_major "$BIN")
    [[ $major =~ ^[0-9]+$ ]] || die "cannot read the version of $BIN"
    ((major >= 6)) || die "$BIN is Redis $major; Redis 6 or later is needed"

    mkdir -p "$DIR"
    DIR=$(cd "$DIR" && pwd -P)
    if [[ -f $DIR/port ]]; then
        PORT=$(cat "$DIR/port")
        [[ $PORT =~ ^[0-9]+$ ]] || die "$DIR/port is damaged; remove $DIR to start afresh"
        if [[ -f $DIR/redis.pid && -f $DIR/url ]] && ours "$(cat "$DIR/redis.pid")"; then
            say "already running in $DIR (pid $(cat "$DIR/redis.pid"))"
            cat "$DIR/url"
            return
        fi
    fi
    rm -f "$DIR/redis.pid" "$DIR/url"

    first=0
    if [[ -f $DIR/port && -f $DIR/redis.conf ]]; then
        PORT=$(cat "$DIR/port")
    else
        first=1
        PORT=$(free_port)
        echo "$PORT" >"$DIR/port"
        write_config "$major"
    fi

    for attempt in 1 2 3 4 5; do
        touch "$DIR/redis.log"
        offset=$(stat -c %s "$DIR/redis.log")
        launch
        status=0
        await "$offset" || status=$?
        ((status == 0)) && break
        if alive "$PID"; then kill_server "$PID" || true; fi
        rm -f "$DIR/redis.pid"
        if ((status == 2 && first == 1 && attempt < 5)); then
            say "port $PORT was taken; trying another"
            PORT=$(free_port)
            echo "$PORT" >"$DIR/port"
            write_config "$major"
            continue
        fi
        tail -c "+$((offset + 1))" "$DIR/redis.log" | tail -n 30 >&2 || true
        if ((status == 2)); then
            die "port $PORT of 127.0.0.1 is taken by another process; the server in $DIR keeps its address, so free the port or remove $DIR (log: $DIR/redis.log)"
        fi
        ((status == 3)) && die "redis-server exited while starting (log: $DIR/redis.log)"
        die "redis-server did not answer PING within $START_TIMEOUT s (log: $DIR/redis.log)"
    done

    url="redis://127.0.0.1:$PORT/0"
    echo "$url" >"$DIR/url"
    say "running in $DIR (pid $PID, log $DIR/redis.log)"
    echo "$url"
}

stop() {
    local pid
    [[ -d $DIR ]] || die "no such directory: $DIR"
    DIR=$(cd "$DIR" && pwd -P)
    PORT=$(cat "$DIR/port" 2>/dev/null || true)
    pid=$(cat "$DIR/redis.pid" 2>/dev/null || true)
    if [[ -z $PORT ]] || ! ours "$pid"; then
        say "not running in $DIR"
        rm -f "$DIR/redis.pid" "$DIR/url"
        return
    fi
    kill_server "$pid" || die "redis-server (pid $pid) is still running"
    rm -f "$DIR/redis.pid" "$DIR/url"
    say "stopped (pid $pid)"
}

DIR=$2
case $command in
    start) start ;;
    stop) stop ;;
    *) usage ;;
esac
