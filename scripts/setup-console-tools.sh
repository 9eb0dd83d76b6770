#!/usr/bin/env bash
# Installs the tools the console and metrics tests run: Debian's chromium (headless browser tests
# through playwright-core) and prometheus (promtool checks the alert rules). Idempotent: a package
# already installed is skipped, and nothing is fetched when both are there.
set -euo pipefail

SUDO=""
if [ "$(id -u)" != "0" ]; then SUDO="sudo"; fi
export DEBIAN_FRONTEND=noninteractive

missing=()
[ -x /usr/bin/chromium ] || missing+=(chromium)
[ -x /usr/bin/promtool ] || missing+=(prometheus)
if [ "${#missing[@]}" -eq 0 ]; then
  echo "console tools: chromium and promtool already installed"
  exit 0
fi
echo "console tools: installing ${missing[*]}"
$SUDO apt-get install -y -q --no-install-recommends "${missing[@]}" >/dev/null \
  || { $SUDO apt-get update -q >/dev/null && $SUDO apt-get install -y -q --no-install-recommends "${missing[@]}" >/dev/null; }
