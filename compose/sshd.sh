#!/usr/bin/env bash
# Start or stop a throw-away OpenSSH sshd from Debian's openssh-server package: the SFTP peer
# of list automation's tests and benchmarks (a customer's SFTP server, on this machine).
#
#   compose/sshd.sh start DIR   configure DIR on first start, start sshd, wait until it
#                               answers, print sftp://127.0.0.1:PORT (also in DIR/url)
#   compose/sshd.sh stop DIR    stop the sshd of DIR (by its pid) and remove its users;
#                               DIR stays, so `start DIR` brings the same server back
#
# First start writes, in DIR:
#   port               a free port of 127.0.0.1 (kept: a restart comes back on it)
#   host_ed25519[.pub] the server's own host key (its fingerprint: ssh-keygen -lf ...pub)
#   users              three lines, "password USER", "key USER" and "both USER": system users
#                      made for this DIR (names from a hash of DIR, so that two DIRs never
#                      share one), with no shell, allowed SFTP only (internal-sftp), each home
#                      DIR/home/USER holding a writable "inbox" directory; "both" must give a
#                      key and then the password (the product's key-and-password login)
#   password           the password of the password and both users (mode 600)
#   client_key         a private key (RSA 3072, OpenSSH format) the key user logs in with;
#   client_key_pass    another one, encrypted with the passphrase in DIR/passphrase
#
# sshd listens on 127.0.0.1 only, allows only those two users, and needs root (it switches to
# the user who logs in, and reads the password from /etc/shadow).
set -euo pipefail

die() { echo "sshd.sh: $*" >&2; exit 1; }
say() { echo "sshd.sh: $*" >&2; }

[[ $# -eq 2 && -n $2 ]] || die "usage: $0 start|stop DIR"
command=$1
DIR=$2
START_TIMEOUT=30

SSHD=/usr/sbin/sshd

free_port() {
    python3 - <<'PY'
import socket
with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as s:
    s.bind(("127.0.0.1", 0))
    print(s.getsockname()[1])
PY
}

alive() {
    [[ -n ${1:-} ]] && kill -0 "$1" 2>/dev/null || return 1
    [[ $(sed -n 's/.*) \(.\).*/\1/p' "/proc/$1/stat" 2>/dev/null) != Z ]]
}

# Is pid $1 the sshd of DIR (its command line names DIR's configuration)?
ours() {
    alive "${1:-}" || return 1
    tr '\0' ' ' <"/proc/$1/cmdline" 2>/dev/null | grep -qF "$DIR/sshd_config"
}

answers() {
    python3 - "$1" <<'PY' 2>/dev/null
import socket, sys
with socket.create_connection(("127.0.0.1", int(sys.argv[1])), timeout=2) as s:
    s.settimeout(2)
    sys.exit(0 if s.recv(64).startswith(b"SSH-2.0-") else 1)
PY
}

user_name() {  # $1: password|key
    local hash
    hash=$(printf '%s' "$DIR" | sha1sum | cut -c1-8)
    echo "dsf${1:0:1}$hash"
}

make_user() {  # $1: user name
    local user=$1 home=$DIR/home/$1
    id "$user" >/dev/null 2>&1 || useradd --no-create-home --home-dir "$home" --shell /usr/sbin/nologin "$user"
    mkdir -p "$home/inbox"
    chown root:root "$home"
    chmod 755 "$home"
    chown "$user:" "$home/inbox"
}

configure() {  # $1: 1 to keep DIR's port (a restart), 0 for a new one
    if [[ $1 == 1 && -f $DIR/port ]]; then PORT=$(cat "$DIR/port"); else PORT=$(free_port); fi
    echo "$PORT" >"$DIR/port"
    [[ -f $DIR/host_ed25519 ]] || ssh-keygen -q -t ed25519 -N "" -C "dialstream test sshd" -f "$DIR/host_ed25519"
    if [[ ! -f $DIR/password ]]; then
        (umask 077 && python3 -c 'import secrets; print(secrets.token_urlsafe(18))' >"$DIR/password")
        (umask 077 && python3 -c 'import secrets; print(secrets.token_urlsafe(12))' >"$DIR/passphrase")
        ssh-keygen -q -t rsa -b 3072 -N "" -C "dialstream test client" -f "$DIR/client_key"
        ssh-keygen -q -t rsa -b 3072 -N "$(cat "$DIR/passphrase")" -C "dialstream test client (passphrase)" -f "$DIR/client_key_pass"
    fi
    printf 'password %s\nkey %s\nboth %s\n' "$(user_name password)" "$(user_name key)" "$(user_name both)" >"$DIR/users"
    mkdir -p "$DIR/authorized_keys"
    cat "$DIR/client_key.pub" "$DIR/client_key_pass.pub" >"$DIR/authorized_keys/$(user_name key)"
    cp "$DIR/client_key.pub" "$DIR/authorized_keys/$(user_name both)"
    cat >"$DIR/sshd_config" <<EOF
# Written by compose/sshd.sh.
ListenAddress 127.0.0.1:$PORT
HostKey $DIR/host_ed25519
PidFile $DIR/sshd.pid
UsePAM no
PasswordAuthentication yes
KbdInteractiveAuthentication no
PubkeyAuthentication yes
AuthorizedKeysFile $DIR/authorized_keys/%u
StrictModes no
PermitRootLogin no
AllowUsers $(user_name password) $(user_name key) $(user_name both)
Subsystem sftp internal-sftp
ForceCommand internal-sftp
X11Forwarding no
AllowTcpForwarding no
AllowAgentForwarding no
PermitTTY no
MaxStartups 100
LogLevel INFO
Match User $(user_name both)
    AuthenticationMethods publickey,password
EOF
}

start() {
    [[ -x $SSHD ]] || die "OpenSSH's sshd is not installed (no $SSHD); run compose/install-deps.sh or apt-get install openssh-server"
    [[ $(id -u) -eq 0 ]] || die "sshd needs root to log in its test users (it reads /etc/shadow and switches user); run as root"
    command -v python3 >/dev/null || die "python3 is needed to pick a free port"
    command -v setsid >/dev/null || die "setsid (util-linux) is needed to detach the server"
    mkdir -p "$DIR"
    DIR=$(cd "$DIR" && pwd -P)
    if [[ -f $DIR/sshd.pid && -f $DIR/url ]] && ours "$(cat "$DIR/sshd.pid")"; then
        say "already running in $DIR (pid $(cat "$DIR/sshd.pid"))"
        cat "$DIR/url"
        return
    fi
    rm -f "$DIR/sshd.pid" "$DIR/url"
    mkdir -p /run/sshd  # privilege separation directory
    local attempt keep=1
    for attempt in 1 2 3 4 5; do
        configure "$keep"
        make_user "$(user_name password)"
        make_user "$(user_name key)"
        usermod -p '*' "$(user_name key)"  # no password, and not locked ("!"), which sshd refuses even a key
        make_user "$(user_name both)"
        printf '%s:%s\n' "$(user_name password)" "$(cat "$DIR/password")" "$(user_name both)" "$(cat "$DIR/password")" | chpasswd
        "$SSHD" -t -f "$DIR/sshd_config" || die "sshd refuses the configuration $DIR/sshd_config"
        setsid "$SSHD" -D -e -f "$DIR/sshd_config" </dev/null >>"$DIR/sshd.log" 2>&1 &
        PID=$!
        local deadline=$((SECONDS + START_TIMEOUT))
        while ((SECONDS < deadline)) && alive "$PID"; do
            if answers "$PORT"; then
                echo "$PID" >"$DIR/sshd.pid"
                echo "sftp://127.0.0.1:$PORT" >"$DIR/url"
                say "running in $DIR (pid $PID, log $DIR/sshd.log)"
                cat "$DIR/url"
                return
            fi
            sleep 0.1
        done
        if alive "$PID"; then kill -TERM "$PID" 2>/dev/null || true; fi
        if grep -q "Address already in use" "$DIR/sshd.log" && ((attempt < 5)); then
            say "port $PORT was taken; trying another"
            keep=0
            continue
        fi
        tail -n 20 "$DIR/sshd.log" >&2 || true
        die "sshd did not answer on 127.0.0.1:$PORT within $START_TIMEOUT s (log: $DIR/sshd.log)"
    done
}

stop() {
    local pid user
    [[ -d $DIR ]] || die "no such directory: $DIR"
    DIR=$(cd "$DIR" && pwd -P)
    pid=$(cat "$DIR/sshd.pid" 2>/dev/null || true)
    if ours "$pid"; then
        kill -TERM "$pid"
        for _ in $(seq 1 100); do alive "$pid" || break; sleep 0.1; done
        alive "$pid" && kill -KILL "$pid" 2>/dev/null || true
        say "stopped (pid $pid)"
    else
        say "not running in $DIR"
    fi
    rm -f "$DIR/sshd.pid" "$DIR/url"
    for user in "$(user_name password)" "$(user_name key)" "$(user_name both)"; do
        if id "$user" >/dev/null 2>&1; then userdel "$user" 2>/dev/null || say "could not remove user $user"; fi
    done
}

case $command in
    start) start ;;
    stop) stop ;;
    *) die "usage: $0 start|stop DIR" ;;
esac
