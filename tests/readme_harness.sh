# Runs the README's shell blocks (tests/readme.py makes them one script, line for line) the
# way a reader pastes them, but strictly: an unset variable, a failing command or a non-2xx
# answer the README does not announce stops the run with the README line at fault.
#
# Environment: README_SCRIPT (the script), README_ANNOUNCED ("line=status ..."),
# README_SEEN (a file: one "line status" per curl call), DIALSTREAM_URL (the server under test).
# shellcheck shell=bash

set -Eeuo pipefail

declare -A readme_announced=()
for pair in ${README_ANNOUNCED:-}; do
    readme_announced[${pair%%=*}]=${pair#*=}
done

# The curl wrapper says why it returns an error itself; every other failing command is named here.
# One line: inside a trap, $LINENO counts the trap's own lines on top of the command's.
trap 'readme_exit=$?; [[ $BASH_COMMAND == return\ * ]] || printf "README.md:%s: exit %s: %s\n" "$LINENO" "$readme_exit" "$BASH_COMMAND" >&2' ERR

# curl as the README calls it, plus: the answer's status is checked against the README line's
# announcement (or 2xx), and only the server under test may be asked.
curl() {
    local line=${BASH_LINENO[0]} expected ours="" arg errors status rc=0
    expected=${readme_announced[$line]:-}
    for arg in "$@"; do
        if [[ $arg == "$DIALSTREAM_URL"/* || $arg == "$DIALSTREAM_URL" ]]; then ours=yes; fi
    done
    if [[ -z $ours ]]; then
        printf 'README.md:%s: curl asks no URL under $DIALSTREAM_URL (%s): %s\n' "$line" "$DIALSTREAM_URL" "$*" >&2
        exit 97  # not return: an `until curl ...` loop would retry it forever
    fi
    errors=$(mktemp)
    command curl "$@" --write-out '%{stderr}\n@readme-status %{http_code}\n' 2>"$errors" || rc=$?
    status=$(sed -n 's/^@readme-status //p' "$errors")
    sed -e '/^@readme-status /d' -e '/^$/d' "$errors" >&2
    rm -f "$errors"
    printf '%s %s\n' "$line" "$status" >>"$README_SEEN"
    if [[ $status == 000 || -z $status ]]; then
        printf 'README.md:%s: no HTTP answer (curl exit %s)\n' "$line" "$rc" >&2
        return 98
    fi
    if [[ -n $expected && $status == "$expected" ]]; then
        return 0  # the error the README shows, even under curl -f
    fi
    if [[ -n $expected ]]; then
        printf 'README.md:%s: HTTP %s, but the README announces %s\n' "$line" "$status" "$expected" >&2
        return 98
    fi
    if [[ -z $expected && $status != 2?? ]]; then
        printf 'README.md:%s: HTTP %s, not 2xx and not announced (end the line with "# -> %s" if it is meant)\n' \
            "$line" "$status" "$status" >&2
        return 98
    fi
    return "$rc"
}

# shellcheck source=/dev/null
source "$README_SCRIPT"
