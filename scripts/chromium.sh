#!/usr/bin/env bash
# Headless Chromium for the report's browser test: print its path, installing it with apt-get when it
# is missing (as root on Debian or Ubuntu, the project's kind of machine). The `chromium` fixture of
# tests/conftest.py runs this, so `python -m pytest` works on a fresh machine; .ci/run runs it too.
# Exit 0 with the browser's path on the last line of stdout; 3 with what to do on stderr.
set -euo pipefail

find_browser() {
    local b
    for b in chromium chromium-browser google-chrome chrome; do
        if command -v "$b"; then return 0; fi
    done
    return 1
}

if find_browser; then exit 0; fi
if ! command -v apt-get >/dev/null; then
    echo "no chromium on PATH and no apt-get to install it: install Chromium or Chrome and put it on PATH" >&2
    exit 3
fi
if [ "$(id -u)" != 0 ]; then
    echo "no chromium on PATH: run 'sudo apt-get install -y chromium fonts-dejavu-core' (as root the tests install it)" >&2
    exit 3
fi
echo "installing chromium with apt-get (once per machine)..." >&2
export DEBIAN_FRONTEND=noninteractive
if ! { apt-get update -qq && apt-get install -y -qq --no-install-recommends chromium fonts-dejavu-core; } >&2; then
    echo "apt-get could not install chromium (see above): check the package sources and the network" >&2
    exit 3
fi
find_browser || { echo "apt-get installed chromium, but no chromium is on PATH" >&2; exit 3; }
