#!/usr/bin/env bash
# Install the Debian packages that development, tests and benchmarks need, when missing.
#
#   compose/install-deps.sh          install what is missing (apt-get update once first)
#
# postgresql: the production event store, started per test run by compose/postgres.sh.
# gnupg:      OpenPGP decryption and encryption of list files.
# a Java 17+ runtime and maven: the Kafka broker, fetched from Maven Central and started by
#             compose/kafka.sh (skipped when java and mvn are already on the PATH).
# redis-server: the production suppression index, started per test run by compose/redis.sh.
# curl:       the README's examples, which tests/test_readme.py runs.
# openssh-server: the SFTP peer of list automation's tests, started by compose/sshd.sh.
# chromium:   the headless browser tests/browser drive the dashboard with, through Playwright
#             (which launches this binary; its own browser download is never used).
set -euo pipefail

PACKAGES=(postgresql gnupg redis-server curl openssh-server chromium)
if ! command -v java >/dev/null || ! command -v mvn >/dev/null; then
    PACKAGES+=(openjdk-17-jre-headless maven)
fi

missing=()
for package in "${PACKAGES[@]}"; do
    if ! dpkg-query --show --showformat='${Status}' "$package" 2>/dev/null \
        | grep -q "install ok installed"; then
        missing+=("$package")
    fi
done

if [[ ${#missing[@]} -eq 0 ]]; then
    echo "install-deps.sh: all present: ${PACKAGES[*]}" >&2
    exit 0
fi

command -v apt-get >/dev/null \
    || { echo "install-deps.sh: apt-get not found; install by hand: ${missing[*]}" >&2; exit 1; }

sudo=()
if [[ $(id -u) -ne 0 ]]; then
    command -v sudo >/dev/null \
        || { echo "install-deps.sh: not root and no sudo; install by hand: ${missing[*]}" >&2; exit 1; }
    sudo=(sudo)
fi

echo "install-deps.sh: installing ${missing[*]}" >&2
export DEBIAN_FRONTEND=noninteractive
"${sudo[@]}" apt-get update -qq
"${sudo[@]}" env DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends \
    "${missing[@]}"
