#!/usr/bin/env bash
# Make PostgreSQL's server binaries (initdb, pg_ctl) available for the platform tests.
#
#   scripts/setup-postgres.sh
#
# The tests start their own throwaway server (tests/pg_server.py); this script
# only installs the software. When initdb and pg_ctl are on PATH or under
# /usr/lib/postgresql/*/bin it exits at once. Otherwise it installs Debian's
# `postgresql` package with apt-get (as root, or through sudo), and does not start the
# system's cluster service. As root the tests run PostgreSQL as the `postgres` user,
# which the package creates.
set -euo pipefail

have_binaries() {
    if command -v initdb >/dev/null && command -v pg_ctl >/dev/null; then
        return 0
    fi
    local dir
    for dir in /usr/lib/postgresql/*/bin; do
        [[ -x "$dir/initdb" && -x "$dir/pg_ctl" ]] && return 0
    done
    return 1
}

if have_binaries && { [[ $(id -u) -ne 0 ]] || id postgres >/dev/null 2>&1; }; then
    echo "setup-postgres: PostgreSQL is installed"
    exit 0
fi

if ! command -v apt-get >/dev/null; then
    echo "setup-postgres: PostgreSQL (initdb, pg_ctl) is missing and there is no apt-get;" \
        "install PostgreSQL's server package (the PostgreSQL test cases fail without it)" >&2
    exit 0
fi
sudo=()
if [[ $(id -u) -ne 0 ]]; then
    if ! command -v sudo >/dev/null; then
        echo "setup-postgres: PostgreSQL is missing; run as root: apt-get install -y postgresql" >&2
        exit 0
    fi
    sudo=(sudo)
fi

start=$SECONDS
echo "setup-postgres: installing Debian's postgresql package"
export DEBIAN_FRONTEND=noninteractive
# Do not start (or create) the system cluster: the tests run their own server.
policy_rc=/usr/sbin/policy-rc.d
made_policy=0
if [[ ! -e $policy_rc ]]; then
    printf '#!/bin/sh\nexit 101\n' | "${sudo[@]}" tee "$policy_rc" >/dev/null
    "${sudo[@]}" chmod +x "$policy_rc"
    made_policy=1
fi
trap '[[ $made_policy -eq 1 ]] && "${sudo[@]}" rm -f "$policy_rc"' EXIT
"${sudo[@]}" apt-get update -q
"${sudo[@]}" apt-get install -y -q --no-install-recommends postgresql
have_binaries || { echo "setup-postgres: initdb/pg_ctl still missing after the install" >&2; exit 1; }
echo "setup-postgres: done in $((SECONDS - start)) s"
