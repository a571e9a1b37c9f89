#!/usr/bin/env bash
# Start or stop a throw-away Apache Kafka broker (3.9.2, KRaft, one node that is both
# broker and controller), for development, tests and benchmarks.
#
#   compose/kafka.sh start DIR   fetch the broker's jars with Maven into a shared cache if
#                                missing, configure DIR on first start (two free ports of
#                                127.0.0.1, remembered in DIR/ports; storage formatted once),
#                                start the broker, wait until it answers, print its
#                                bootstrap address 127.0.0.1:PORT (also in DIR/bootstrap)
#   compose/kafka.sh stop DIR    stop the broker started in DIR (by its pid); its data,
#                                ports and configuration stay, so `start DIR` again
#                                restarts the same broker on the same address
#
# The jars come from Maven Central through compose/kafka/pom.xml into
# ${DIALSTREAM_KAFKA_HOME:-$HOME/.cache/dialstream/kafka-3.9.2}/libs. Needs java 17+, mvn
# and python3. The broker listens on 127.0.0.1 only, without authentication.
set -euo pipefail

die() { echo "kafka.sh: $*" >&2; exit 1; }
say() { echo "kafka.sh: $*" >&2; }

usage() { die "usage: $0 start|stop DIR"; }

[[ $# -eq 2 ]] || usage
command=$1
[[ -n $2 ]] || usage

HERE=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd -P)
POM=$HERE/kafka/pom.xml
LOG4J=$HERE/kafka/log4j.properties
KAFKA_HOME=${DIALSTREAM_KAFKA_HOME:-$HOME/.cache/dialstream/kafka-3.9.2}
LIBS=$KAFKA_HOME/libs
START_TIMEOUT=90

check_java() {
    command -v java >/dev/null \
        || die "java is not installed; Kafka needs Java 17 or newer (apt-get install openjdk-17-jre-headless)"
    local version major
    version=$(java -version 2>&1 | sed -n 's/.* version "\([^"]*\)".*/\1/p' | head -n 1)
    major=${version%%.*}
    [[ $major == 1 ]] && major=$(echo "$version" | cut -d. -f2)
    [[ $major =~ ^[0-9]+$ ]] || die "cannot tell the version of $(command -v java) (java -version: $version)"
    ((major >= 17)) || die "Kafka needs Java 17 or newer; $(command -v java) is $version"
}

# The broker's jars, fetched once into the shared cache. The marker, written only after a
# complete copy, records which pom the jars came from: an interrupted or older fetch is redone.
fetch_libs() {
    local marker=$LIBS/.complete want log
    want=$(sha256sum "$POM" | cut -d' ' -f1)
    [[ -f $marker && $(cat "$marker") == "$want" ]] && return
    command -v mvn >/dev/null \
        || die "mvn is not installed; it fetches the Kafka broker from Maven Central (apt-get install maven)"
    mkdir -p "$KAFKA_HOME"
    # One fetch at a time when several tests start brokers at once.
    exec 9>"$KAFKA_HOME/.lock"
    if command -v flock >/dev/null; then flock 9; fi
    if [[ -f $marker && $(cat "$marker") == "$want" ]]; then exec 9>&-; return; fi

    say "fetching Apache Kafka 3.9.2 from Maven Central into $LIBS (once)"
    log=$KAFKA_HOME/mvn.log
    rm -rf "$LIBS" "$LIBS.partial"
    if ! mvn -B --no-transfer-progress -Dstyle.color=never -f "$POM" \
        org.apache.maven.plugins:maven-dependency-plugin:copy-dependencies \
        -DoutputDirectory="$LIBS.partial" -DincludeScope=runtime >"$log" 2>&1; then
        sed 's/\x1b\[[0-9;]*m//g' "$log" | grep -E '^\[(ERROR|FATAL)\]' >&2 || tail -n 40 "$log" >&2
        rm -rf "$LIBS.partial"
        exec 9>&-
        die "Maven could not fetch the Kafka broker (log: $log)"
    fi
    ls "$LIBS.partial"/kafka_2.13-*.jar >/dev/null 2>&1 \
        || { exec 9>&-; die "Maven finished but $LIBS.partial has no kafka_2.13 jar (log: $log)"; }
    mv "$LIBS.partial" "$LIBS"
    echo "$want" >"$marker"
    exec 9>&-
    say "fetched $(find "$LIBS" -name '*.jar' | wc -l) jars ($(du -sh "$LIBS" | cut -f1))"
}

# Two distinct free ports of 127.0.0.1: broker and controller.
free_ports() {
    python3 - <<'PY'
import socket
sockets = [socket.socket(socket.AF_INET, socket.SOCK_STREAM) for _ in range(2)]
for s in sockets:
    s.bind(("127.0.0.1", 0))
print(" ".join(str(s.getsockname()[1]) for s in sockets))
for s in sockets:
    s.close()
PY
}

alive() { [[ -n ${1:-} ]] && kill -0 "$1" 2>/dev/null; }

# The pid is alive and is the broker of DIR (not another process that reused the pid).
ours() {
    alive "${1:-}" || return 1
    [[ -r /proc/$1/cmdline ]] || return 0
    tr '\0' ' ' <"/proc/$1/cmdline" | grep -qF "$DIR/server.properties"
}

# A Kafka-level check: an ApiVersions request to 127.0.0.1:$1 gets an answer without error.
api_versions() {
    python3 - "$1" <<'PY' 2>/dev/null
import socket, struct, sys
client = b"kafka.sh"
request = struct.pack(">hhih", 18, 0, 7, len(client)) + client  # ApiVersions v0, correlation 7
with socket.create_connection(("127.0.0.1", int(sys.argv[1])), timeout=3) as s:
    s.settimeout(3)
    s.sendall(struct.pack(">i", len(request)) + request)
    data = b""
    while len(data) < 4 or len(data) < 4 + struct.unpack(">i", data[:4])[0]:
        chunk = s.recv(65536)
        if not chunk:
            sys.exit(1)
        data += chunk
correlation, error = struct.unpack(">ih", data[4:10])
sys.exit(0 if correlation == 7 and error == 0 else 1)
PY
}

read_ports() {
    PORT=$(sed -n 's/^broker=//p' "$DIR/ports")
    CPORT=$(sed -n 's/^controller=//p' "$DIR/ports")
    [[ $PORT =~ ^[0-9]+$ && $CPORT =~ ^[0-9]+$ ]] || die "$DIR/ports is damaged; remove $DIR to start afresh"
}

write_config() {
    printf 'broker=%s\ncontroller=%s\n' "$PORT" "$CPORT" >"$DIR/ports"
    cat >"$DIR/server.properties" <<PROPS
# Written by compose/kafka.sh: one local node, broker and KRaft controller, loopback only.
process.roles=broker,controller
node.id=1
controller.quorum.voters=1@127.0.0.1:$CPORT
listeners=PLAINTEXT://127.0.0.1:$PORT,CONTROLLER://127.0.0.1:$CPORT
advertised.listeners=PLAINTEXT://127.0.0.1:$PORT
listener.security.protocol.map=PLAINTEXT:PLAINTEXT,CONTROLLER:PLAINTEXT
inter.broker.listener.name=PLAINTEXT
controller.listener.names=CONTROLLER
log.dirs=$DIR/data

# One node: every internal topic has one replica.
offsets.topic.replication.factor=1
offsets.topic.num.partitions=1
transaction.state.log.replication.factor=1
transaction.state.log.min.isr=1
transaction.state.log.num.partitions=1
share.coordinator.state.topic.replication.factor=1
share.coordinator.state.topic.min.isr=1
default.replication.factor=1
min.insync.replicas=1

# Topics are created on purpose (dialstream topics create), never by a typo.
auto.create.topics.enable=false
num.partitions=1
delete.topic.enable=true

# Quick to start, small to run.
group.initial.rebalance.delay.ms=0
num.network.threads=2
num.io.threads=4
num.recovery.threads.per.data.dir=1
log.cleaner.threads=1
log.cleaner.dedupe.buffer.size=16777216
log.retention.hours=168
log.segment.bytes=104857600
PROPS
}

format_storage() {
    local id
    id=$(java -cp "$LIBS/*" -Dlog4j.configuration="file:$LOG4J" kafka.tools.StorageTool random-uuid 2>"$DIR/format.log" \
        | tail -n 1) || { cat "$DIR/format.log" >&2; die "kafka.tools.StorageTool random-uuid failed"; }
    [[ -n $id ]] || { cat "$DIR/format.log" >&2; die "kafka.tools.StorageTool random-uuid printed nothing"; }
    say "formatting $DIR/data (cluster id $id)"
    java -cp "$LIBS/*" -Dlog4j.configuration="file:$LOG4J" kafka.tools.StorageTool format \
        -t "$id" -c "$DIR/server.properties" >>"$DIR/format.log" 2>&1 \
        || { cat "$DIR/format.log" >&2; die "formatting $DIR/data failed (log: $DIR/format.log)"; }
}

# Start the JVM in the background, in its own session, its output appended to kafka.log.
launch() {
    setsid nohup java -Xmx512m -Xms256m -XX:+UseG1GC -XX:MaxGCPauseMillis=20 \
        -Djava.awt.headless=true -Dlog4j.configuration="file:$LOG4J" \
        -cp "$LIBS/*" kafka.Kafka "$DIR/server.properties" \
        </dev/null >>"$DIR/kafka.log" 2>&1 &
    PID=$!
    echo "$PID" >"$DIR/kafka.pid"
}

# Wait until the broker started at log offset $1 says it started and answers ApiVersions.
# Returns 0 when ready, 2 when a port was taken, 3 when it died, 1 when the deadline passed.
await() {
    local offset=$1 deadline=$((SECONDS + START_TIMEOUT))
    while ((SECONDS < deadline)); do
        if ! alive "$PID"; then
            wait "$PID" 2>/dev/null || true
            if tail -c "+$((offset + 1))" "$DIR/kafka.log" | grep -q "Address already in use"; then
                return 2
            fi
            return 3
        fi
        if tail -c "+$((offset + 1))" "$DIR/kafka.log" | grep -q "Kafka Server started" \
            && api_versions "$PORT"; then
            return 0
        fi
        sleep 0.5
    done
    return 1
}

kill_broker() {
    local pid=$1
    kill -TERM "$pid" 2>/dev/null || true
    for _ in $(seq 1 120); do alive "$pid" || return 0; sleep 0.25; done
    say "pid $pid did not stop within 30 s; killing it"
    kill -KILL "$pid" 2>/dev/null || true
    for _ in $(seq 1 20); do alive "$pid" || return 0; sleep 0.25; done
    return 1
}

start() {
    local first offset attempt status address
    command -v python3 >/dev/null || die "python3 is needed to pick free ports and check the broker"
    check_java

    mkdir -p "$DIR"
    DIR=$(cd "$DIR" && pwd -P)
    if [[ -f $DIR/kafka.pid && -f $DIR/bootstrap ]] && ours "$(cat "$DIR/kafka.pid")"; then
        say "already running in $DIR (pid $(cat "$DIR/kafka.pid"))"
        cat "$DIR/bootstrap"
        return
    fi
    rm -f "$DIR/kafka.pid" "$DIR/bootstrap"

    fetch_libs

    first=0
    if [[ -f $DIR/ports && -f $DIR/server.properties ]]; then
        read_ports
    else
        first=1
        read -r PORT CPORT < <(free_ports)
        write_config
    fi
    [[ -f $DIR/data/meta.properties ]] || format_storage

    for attempt in 1 2 3 4 5; do
        touch "$DIR/kafka.log"
        offset=$(stat -c %s "$DIR/kafka.log")
        launch
        status=0
        await "$offset" || status=$?
        ((status == 0)) && break
        if alive "$PID"; then kill_broker "$PID" || true; fi
        rm -f "$DIR/kafka.pid"
        if ((status == 2 && first == 1 && attempt < 5)); then
            say "port $PORT or $CPORT was taken; trying others"
            read -r PORT CPORT < <(free_ports)
            write_config
            continue
        fi
        tail -c "+$((offset + 1))" "$DIR/kafka.log" | tail -n 30 >&2 || true
        if ((status == 2)); then
            die "port $PORT or $CPORT of 127.0.0.1 is taken by another process; the broker in $DIR keeps its address, so free the port or remove $DIR (log: $DIR/kafka.log)"
        fi
        ((status == 3)) && die "Kafka exited while starting (log: $DIR/kafka.log)"
        die "Kafka did not start within $START_TIMEOUT s (log: $DIR/kafka.log)"
    done

    address=127.0.0.1:$PORT
    echo "$address" >"$DIR/bootstrap"
    say "running in $DIR (pid $PID, log $DIR/kafka.log)"
    echo "$address"
}

stop() {
    local pid
    [[ -d $DIR ]] || die "no such directory: $DIR"
    DIR=$(cd "$DIR" && pwd -P)
    pid=$(cat "$DIR/kafka.pid" 2>/dev/null || true)
    if ! ours "$pid"; then
        say "not running in $DIR"
        rm -f "$DIR/kafka.pid" "$DIR/bootstrap"
        return
    fi
    kill_broker "$pid" || die "Kafka (pid $pid) is still running"
    rm -f "$DIR/kafka.pid" "$DIR/bootstrap"
    say "stopped (pid $pid)"
}

DIR=$2
case $command in
    start) start ;;
    stop) stop ;;
    *) usage ;;
esac
