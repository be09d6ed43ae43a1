#!/usr/bin/env bash
# Installs the headless browser the browser suite drives: Debian's chromium package,
# at /usr/bin/chromium. Playwright's own browser download is not used, so the tests
# run on the distribution's build and need no network beyond the apt mirrors.
set -euo pipefail

BROWSER=/usr/bin/chromium
if [ -x "$BROWSER" ]; then
    exit 0
fi

SUDO=""
if [ "$(id -u)" -ne 0 ]; then
    if command -v sudo >/dev/null 2>&1; then
        SUDO="sudo"
    else
        echo "install-browser: $BROWSER is missing and installing it needs root" >&2
        exit 1
    fi
fi

export DEBIAN_FRONTEND=noninteractive
$SUDO apt-get update -qq
$SUDO apt-get install -y -qq --no-install-recommends chromium fonts-dejavu-core >/dev/null
test -x "$BROWSER"
"$BROWSER" --version
