#!/usr/bin/env bash
# Installs the system packages Vigil needs, only when they are missing:
# libpq-dev (the libpq headers the CLibPQ target builds against) and postgresql
# (the server, plus postgresql-common), pkg-config, and openssl and curl (the TLS tests
# make their certificates with openssl; the demo and bench scripts poll with curl), and
# libxml2 (FoundationXML, which the ISO 20022 parser reads pacs.008 through, loads it).
# With --browser also chromium and chromium-driver: the console's browser tests drive a
# headless Chromium over WebDriver (`make test-browser`, `make screenshots`).
set -euo pipefail

packages=(libpq-dev postgresql postgresql-common pkg-config openssl curl libxml2)
if [ "${1:-}" = "--browser" ]; then
    packages+=(chromium chromium-driver)
fi

missing=()
for pkg in "${packages[@]}"; do
    if ! dpkg-query -W -f='${Status}' "$pkg" 2>/dev/null | grep -q "install ok installed"; then
        missing+=("$pkg")
    fi
done
if [ ${#missing[@]} -eq 0 ]; then
    exit 0
fi

echo "installing missing packages: ${missing[*]}"
SUDO=""
if [ "$(id -u)" -ne 0 ]; then
    if command -v sudo >/dev/null 2>&1; then
        SUDO="sudo"
    else
        echo "error: need root (or sudo) to install ${missing[*]}; install them and re-run" >&2
        exit 1
    fi
fi
export DEBIAN_FRONTEND=noninteractive
$SUDO apt-get update -qq
# The package's post-install would create and start a default cluster we don't use.
$SUDO apt-get install -y -qq --no-install-recommends "${missing[@]}"
