#!/usr/bin/env bash
# Install Debian's headless-capable Chromium for the report's browser test (tests/test_browser_report.py).
# Idempotent: does nothing when chromium is already on PATH. Needs root (CI runs as root) or sudo.
set -euo pipefail
if command -v chromium >/dev/null 2>&1; then
    echo "chromium present: $(chromium --version 2>/dev/null || echo unknown version)"
    exit 0
fi
SUDO=""
if [ "$(id -u)" -ne 0 ]; then SUDO="sudo"; fi
export DEBIAN_FRONTEND=noninteractive
# Wait (up to 10 min) for another apt/dpkg run to release its lock instead of failing.
$SUDO apt-get -o DPkg::Lock::Timeout=600 update -qq
$SUDO apt-get -o DPkg::Lock::Timeout=600 install -y -qq chromium fonts-dejavu-core
chromium --version
