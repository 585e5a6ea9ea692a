#!/usr/bin/env bash
# Make a headless Chromium and its WebDriver available for the web page tests.
#
#   scripts/setup-browser.sh
#
# tests/platform/test_web_pages.py drives /usr/bin/chromium through /usr/bin/chromedriver
# (Python's selenium, from the `test` extra). When both exist it exits at once.
# Otherwise it installs Debian's `chromium` and `chromium-driver` packages with apt-get
# (as root, or through sudo).
set -euo pipefail

have_browser() {
    [[ -x /usr/bin/chromium && -x /usr/bin/chromedriver ]]
}

if have_browser; then
    echo "setup-browser: chromium and chromedriver are installed"
    exit 0
fi

if ! command -v apt-get >/dev/null; then
    echo "setup-browser: /usr/bin/chromium or /usr/bin/chromedriver is missing and there is" \
        "no apt-get; install Chromium and its driver (the web page tests fail without them)" >&2
    exit 0
fi
sudo=()
if [[ $(id -u) -ne 0 ]]; then
    if ! command -v sudo >/dev/null; then
        echo "setup-browser: Chromium is missing; run as root: apt-get install -y chromium chromium-driver" >&2
        exit 0
    fi
    sudo=(sudo)
fi

start=$SECONDS
echo "setup-browser: installing Debian's chromium and chromium-driver packages"
export DEBIAN_FRONTEND=noninteractive
"${sudo[@]}" apt-get update -q
"${sudo[@]}" apt-get install -y -q --no-install-recommends chromium chromium-driver
have_browser || { echo "setup-browser: chromium/chromedriver still missing after the install" >&2; exit 1; }
echo "setup-browser: done in $((SECONDS - start)) s"
